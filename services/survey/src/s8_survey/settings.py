"""Survey settings (env prefix `S8_`)."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from s8_shared.settings import DEV_SECRET, ServiceSettings, require_real_secret


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
    api_keys: list[SecretStr] = Field(
        default_factory=lambda: [SecretStr(DEV_SECRET)],
        description="Keys for the JSON answer API (X-API-Key), for channels that collect ratings.",
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
        for key in self.api_keys:
            require_real_secret(self, "api_keys", key)
        return self
