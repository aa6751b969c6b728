"""Intake settings (env prefix `S8_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from s8_intake.adapters import data_files
from s8_shared.identity.channel_keys import ChannelKey, check_rotation, hash_key
from s8_shared.settings import DEV_SECRET, ServiceSettings


class IntakeSettings(ServiceSettings):
    service_name: str = "s8-intake"
    http_port: int = Field(default=8001, ge=1, le=65535)
    channel_keys: list[ChannelKey] = Field(
        default_factory=lambda: [ChannelKey(id="dev", channel="*", sha256=hash_key(DEV_SECRET))],
        description="Keys channel systems without OAuth send in X-API-Key, valid only on "
        "POST /v1/inbound/{channel}: JSON list of {id, channel (or *), sha256}; two per channel "
        "at most (rotation). The default is the development key, refused outside development.",
    )
    own_addresses: list[str] = Field(
        default_factory=lambda: ["support@s8.example.vn"],
        description="s8's own mailboxes: mail from them is a loop and makes no ticket.",
    )
    rules_path: Path = Field(
        default=data_files.DEFAULT_RULES_PATH,
        description="Classification rules (YAML), reloaded on change.",
    )
    compensation_limits_path: Path = Field(
        default=data_files.DEFAULT_LIMITS_PATH,
        description="Compensation limits per agent tier and the leads' approval limit (YAML).",
    )
    reopen_window_days: int = Field(default=7, ge=0, le=365)
    callback_window_minutes: int = Field(default=120, ge=0, le=7 * 24 * 60)
    faq_threshold: float = Field(default=0.72, ge=0.0, le=1.0)
    problem_notices_per_second: float = Field(
        default=50.0,
        gt=0,
        le=10_000,
        description="Throttle for proactive notices about a problem (per intake replica).",
    )

    @model_validator(mode="after")
    def _channel_keys(self) -> IntakeSettings:
        check_rotation(self.channel_keys)
        dev = hash_key(DEV_SECRET)
        if self.environment != "development" and any(k.sha256 == dev for k in self.channel_keys):
            raise ValueError("S8_CHANNEL_KEYS holds the development key: set real keys outside development")  # fmt: skip
        return self
