"""analytics settings (env prefix `S8_`)."""

from __future__ import annotations

from pydantic import Field

from s8_shared.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    service_name: str = "s8-analytics"
    http_port: int = Field(default=8005, ge=1, le=65535)
