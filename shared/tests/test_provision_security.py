import ssl
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from s8_shared.kafka.provision import client_security
from s8_shared.settings import ServiceSettings


def settings(**fields: object) -> ServiceSettings:
    return ServiceSettings.model_validate({"service_name": "s8-provision", **fields})


def test_a_plaintext_cluster_needs_no_credentials() -> None:
    assert client_security(settings()) == {"security_protocol": "PLAINTEXT"}


def test_a_sasl_ssl_cluster_gets_the_same_credentials_as_the_services() -> None:
    options = client_security(
        settings(
            kafka_security_protocol="SASL_SSL",
            kafka_sasl_mechanism="SCRAM-SHA-512",
            kafka_sasl_username="s8",
            kafka_sasl_password=SecretStr("s3cret"),
        )
    )
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("s8", "s3cret")
    assert isinstance(options["ssl_context"], ssl.SSLContext)


def test_tls_without_sasl_sends_no_credentials() -> None:
    options = client_security(settings(kafka_security_protocol="SSL"))
    assert "sasl_mechanism" not in options
    assert isinstance(options["ssl_context"], ssl.SSLContext)


def test_a_private_ca_is_trusted_for_kafka(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    # Any PEM bundle works; the system bundle stands in for a private CA here.
    ca.write_text(Path(ssl.get_default_verify_paths().cafile or "").read_text())
    options = client_security(settings(kafka_security_protocol="SSL", kafka_ssl_cafile=ca))
    assert options["ssl_context"].cert_store_stats()["x509_ca"] > 0


def test_a_missing_ca_file_fails_at_start_naming_the_setting() -> None:
    with pytest.raises(ValidationError, match="kafka_ssl_cafile"):
        settings(kafka_security_protocol="SSL", kafka_ssl_cafile="/nope/ca.crt")
