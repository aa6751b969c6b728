"""Agents on `support.agents.v1` (compacted, keyed by agent id): the latest profile wins.

A workforce tool (or the router's admin API) publishes an agent's whole profile whenever
anything about them changes, presence included.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from s8_shared.contracts.common import Language
from s8_shared.contracts.envelope import InvalidMessage, load_json_object, validation_reason

AgentTier = Literal["L1", "L2", "L3", "field"]
ChannelKind = Literal["chat", "email", "phone", "on_site"]


class Presence(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


def _default_capacity() -> dict[ChannelKind, int]:
    return {"chat": 3, "email": 8, "phone": 1, "on_site": 1}


class AgentProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    agent_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@-]+$")
    name: str = Field(min_length=1, max_length=200)
    team: str = Field(default="customer_care", max_length=64)
    tier: AgentTier = "L1"
    skills: dict[str, int] = Field(
        default_factory=dict, description="Skill → proficiency 1..5, e.g. {'billing': 4}."
    )
    languages: list[Language] = Field(default_factory=lambda: [Language.VI])
    region: str | None = Field(default=None, max_length=100, description="For on-site work.")
    capacity: dict[ChannelKind, int] = Field(
        default_factory=_default_capacity,
        description="Concurrent tickets per channel kind.",
    )
    presence: Presence = Presence.OFFLINE
    lead: bool = Field(
        default=False, description="A team lead: may approve compensation above agents' limits."
    )
    updated_at: datetime | None = None

    def model_post_init(self, _: object) -> None:
        for skill, level in self.skills.items():
            if not 1 <= level <= 5:
                raise ValueError(f"skill {skill!r}: proficiency must be 1..5, got {level}")
        for kind, slots in self.capacity.items():
            if slots < 0:
                raise ValueError(f"capacity {kind!r} must not be negative")


def decode_profile(body: bytes) -> AgentProfile:
    """A profile read from the agents topic (not a tombstone: the caller skips an empty body);
    anything else is an InvalidMessage, dead-lettered with the reason."""
    try:
        return AgentProfile.model_validate(load_json_object(body))
    except ValidationError as exc:
        raise InvalidMessage(f"invalid agent profile: {validation_reason(exc)}") from exc
