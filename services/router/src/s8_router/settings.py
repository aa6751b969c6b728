"""router settings (env prefix `S8_`)."""

from __future__ import annotations

from pydantic import Field

from s8_shared.settings import ServiceSettings


class RouterSettings(ServiceSettings):
    service_name: str = "s8-router"
    http_port: int = Field(default=8002, ge=1, le=65535)
