"""Survey settings (env prefix `S8_`)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from s8_shared.settings import DEV_SECRET, ServiceSettings, require_real_secret

MIN_HMAC_KEY_BYTES = 32  # HMAC-SHA256: a key shorter than the hash weakens the links


class SurveySettings(ServiceSettings):
    service_name: str = "s8-survey"
    http_port: int = Field(default=8004, ge=1, le=65535)
    survey_hmac_key: SecretStr = Field(
        default=SecretStr(DEV_SECRET), description="Signs survey links."
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8004",
        description="Where customers open survey links (the Ingress URL).",
    )
    csat_delay_seconds: int = Field(default=1800, ge=0)
    csat_throttle_days: int = Field(default=7, ge=0)
    csat_sampling: float = Field(default=1.0, ge=0.0, le=1.0)
    nps_cadence_days: int = Field(default=90, ge=1)
    answer_grace_minutes: int = Field(default=30, ge=0)
    link_lifetime_days: int = Field(default=14, ge=1)

    @model_validator(mode="after")
    def _real_secrets_outside_development(self) -> SurveySettings:
        require_real_secret(self, "survey_hmac_key", self.survey_hmac_key)
        if self.environment == "production" and len(self.survey_hmac_key.get_secret_value().encode()) < MIN_HMAC_KEY_BYTES:  # fmt: skip
            raise ValueError(f"S8_SURVEY_HMAC_KEY must be at least {MIN_HMAC_KEY_BYTES} bytes in production")  # fmt: skip
        return self
