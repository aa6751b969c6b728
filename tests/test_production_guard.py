"""With S8_ENVIRONMENT=production a service refuses development defaults at start."""

from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from s8_intake.settings import IntakeSettings
from s8_shared.identity.channel_keys import ChannelKey, hash_key
from s8_shared.settings import DEV_SECRET, ServiceSettings
from s8_survey.settings import SurveySettings

PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "oidc_issuer": "https://id.example.vn/realms/support",
    "kafka_security_protocol": "SASL_SSL",
    "kafka_sasl_mechanism": "SCRAM-SHA-512",
    "kafka_sasl_username": "s8-intake",
    "kafka_sasl_password": SecretStr("a-real-password"),
}


def test_a_production_service_starts_with_real_settings() -> None:
    assert ServiceSettings(**PRODUCTION).environment == "production"


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"oidc_issuer": "http://127.0.0.1:18080/realms/s8"}, "S8_OIDC_ISSUER"),
        ({"oidc_issuer": "http://id.example.vn/realms/support"}, "over https"),
        ({"kafka_security_protocol": "PLAINTEXT", "kafka_sasl_mechanism": None}, "PLAINTEXT"),
        ({"kafka_sasl_password": SecretStr(DEV_SECRET)}, "development secret"),
    ],
    ids=["local-issuer", "plain-http-issuer", "plaintext-kafka", "dev-kafka-password"],
)
def test_a_production_service_refuses_development_defaults(override: dict[str, Any], reason: str) -> None:  # fmt: skip
    with pytest.raises(ValidationError, match=reason):
        ServiceSettings(**{**PRODUCTION, **override})


def test_plaintext_kafka_in_production_only_when_allowed_explicitly() -> None:
    allowed = {**PRODUCTION, "kafka_security_protocol": "PLAINTEXT", "allow_plaintext_kafka": True}
    assert ServiceSettings(**allowed).kafka_security_protocol == "PLAINTEXT"


def test_survey_refuses_a_short_or_development_hmac_key_in_production() -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        SurveySettings(**PRODUCTION, survey_hmac_key=SecretStr("short-but-not-dev"))
    with pytest.raises(ValidationError, match="S8_SURVEY_HMAC_KEY must be set"):
        SurveySettings(**PRODUCTION, survey_hmac_key=SecretStr(DEV_SECRET))
    assert SurveySettings(**PRODUCTION, survey_hmac_key=SecretStr("k" * 32)).environment == "production"  # fmt: skip


def test_intake_refuses_the_development_channel_key_in_production() -> None:
    with pytest.raises(ValidationError, match="development key"):
        IntakeSettings(**PRODUCTION)
    real = ChannelKey(id="pbx", channel="phone", sha256=hash_key("k" * 40))
    assert IntakeSettings(**PRODUCTION, channel_keys=[real]).channel_keys == [real]
