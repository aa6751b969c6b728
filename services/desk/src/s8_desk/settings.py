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
    inbox_client_id: str = Field(
        default="s8-desk",
        min_length=1,
        max_length=255,
        description="The OpenID Connect client the web inbox (`/inbox`) signs agents in with: "
        "public, authorization code with PKCE (S256).",
    )
    inbox_issuer_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s\"'<>]+$",
        description="The issuer as the agents' browsers reach it, when they reach the provider "
        "at another address than the desk does; unset: `S8_OIDC_ISSUER`.",
    )
