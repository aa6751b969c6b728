"""What the router reasons about: agents as they are right now, tickets waiting for one,
and the decision it took (with its reasons, so every assignment can be explained)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AgentState:
    agent_id: str
    team: str
    tier: str  # L1, L2, L3, field
    skills: Mapping[str, int]  # skill -> proficiency 1..5
    languages: frozenset[str]  # "vi", "en"
    region: str | None
    capacity: Mapping[str, int]  # channel kind -> concurrent slots
    active: Mapping[str, int]  # channel kind -> tickets held now
    presence: str  # online, away, offline
    last_finished_at: datetime | None = None
    last_assigned_at: datetime | None = None

    def free(self, kind: str) -> int:
        """Slots left on one channel kind; never negative, even if capacity was lowered
        below what the agent already holds."""
        return max(0, self.capacity.get(kind, 0) - self.active.get(kind, 0))

    def occupancy(self) -> float:
        """Share of the agent's slots in use, over the kinds they have slots on (0 if none)."""
        kinds = [k for k, slots in self.capacity.items() if slots > 0]
        total = sum(self.capacity[k] for k in kinds)
        if total == 0:
            return 0.0
        return sum(self.active.get(k, 0) for k in kinds) / total


@dataclass(frozen=True)
class TicketToRoute:
    ticket_id: str
    channel_kind: str  # chat, email, phone, on_site
    priority: str  # urgent, high, normal, low
    required_skills: tuple[str, ...]
    language: str
    tier_required: str | None  # None = any tier
    region: str | None
    customer_tier: str  # vip, standard
    waiting_since: datetime
    previous_agent_id: str | None = None
    previous_agent_at: datetime | None = None
    # e.g. agents who let an assignment time out: never offered the ticket again
    excluded_agents: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    ticket_id: str
    agent_id: str | None
    # previous_agent, least_loaded, longest_idle, round_robin, no_eligible_agent
    reason: str
    eligible: tuple[str, ...]
    # agent_id -> offline, away, no_capacity, missing_skill:<s>, skill_level:<s>,
    # language, tier, region, excluded
    rejected: Mapping[str, str]
