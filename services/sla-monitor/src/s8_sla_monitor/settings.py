"""SLA monitor settings (env prefix `S8_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from s8_shared.business_time.calendar import DEFAULT_CALENDARS_PATH
from s8_shared.settings import ServiceSettings

# The shipped policies; an operator points S8_POLICIES_PATH elsewhere.
DEFAULT_POLICIES_PATH = Path(__file__).parent / "data" / "sla_policies.yaml"


class SlaMonitorSettings(ServiceSettings):
    service_name: str = "s8-sla-monitor"
    http_port: int = Field(default=8003, ge=1, le=65535)
    policies_path: Path = Field(
        default=DEFAULT_POLICIES_PATH, description="Seed SLA policies (YAML)."
    )
    calendars_path: Path = Field(
        default=DEFAULT_CALENDARS_PATH, description="Seed business calendars (YAML)."
    )
    scheduler_interval_seconds: float = Field(
        default=0.25,
        gt=0,
        le=5,
        description="How often due clocks are looked for (sets firing precision).",
    )
    config_refresh_seconds: float = Field(
        default=30.0, gt=0, description="Replicas reread policies this often."
    )
