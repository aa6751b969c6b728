"""Desk settings (env prefix `S8_`)."""

from __future__ import annotations

from pydantic import Field

from s8_shared.settings import ServiceSettings


class DeskSettings(ServiceSettings):
    service_name: str = "s8-desk"
    http_port: int = Field(default=8006, ge=1, le=65535)
    stream_poll_seconds: float = Field(
        default=0.2,
        gt=0,
        le=5,
        description="How often each replica looks for new notices to push to its streams.",
    )
    intake_url: str = Field(
        default="http://127.0.0.1:8001",
        description="Intake's API: replies, notes, status, transfers, merges, problems, "
        "compensation and approvals are sent there as the signed-in agent.",
    )
    router_url: str = Field(
        default="http://127.0.0.1:8002",
        description="The router's API: presence and accepting offers, as the signed-in agent.",
    )
