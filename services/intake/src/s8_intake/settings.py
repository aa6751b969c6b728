"""Intake settings (env prefix `S8_`)."""

from __future__ import annotations

from pydantic import Field

from s8_shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: str = "s8-intake"
    http_port: int = Field(default=8001, ge=1, le=65535)
