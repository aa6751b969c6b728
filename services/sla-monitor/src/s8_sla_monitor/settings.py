"""sla-monitor settings (env prefix `S8_`)."""

from __future__ import annotations

from pydantic import Field

from s8_shared.settings import ServiceSettings


class SlaMonitorSettings(ServiceSettings):
    service_name: str = "s8-sla-monitor"
    http_port: int = Field(default=8003, ge=1, le=65535)
