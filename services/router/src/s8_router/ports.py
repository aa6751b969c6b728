"""What the router's application services need from the outside, as small protocols: the
Mongo adapters implement them in production, in-memory fakes in the unit tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from s8_router.domain.model import AgentState, TicketToRoute
from s8_router.domain.record import Changes, RoutingRecord, RoutingState
from s8_shared.contracts import AgentProfile


class RoutingRecords(Protocol):
    """Routing records, moved by conditional updates (the state machine decides which)."""

    async def register(
        self, route: TicketToRoute, customer_id: str, version: int
    ) -> RoutingRecord: ...

    async def get(self, ticket_id: str) -> RoutingRecord | None: ...

    async def transition(
        self,
        ticket_id: str,
        from_states: Sequence[RoutingState],
        to: RoutingState,
        changes: Changes | None = None,
        *,
        new_assignment: bool = False,
        agent_id: str | None = None,
        before: bool = False,
    ) -> RoutingRecord | None: ...

    async def mark_answered(self, ticket_id: str) -> None: ...

    async def require_tier(self, ticket_id: str, tier: str | None) -> None: ...

    async def exclude(self, ticket_id: str, agent_id: str) -> None: ...

    async def mark_announced(self, ticket_id: str, seq: int) -> None: ...

    async def queue_head(self) -> list[RoutingRecord]: ...

    async def queue_depth(self) -> dict[tuple[str, str], int]: ...

    async def held_by(self, agent_id: str, *, unanswered_only: bool) -> list[RoutingRecord]: ...

    async def expired_offers(self, now: datetime) -> list[RoutingRecord]: ...

    async def remember_agent(self, customer_id: str, agent_id: str, at: datetime) -> None: ...

    async def previous_agent(self, customer_id: str) -> tuple[str | None, datetime | None]: ...


class AgentRoster(Protocol):
    """Agents and their live load; capacity is claimed and released atomically."""

    async def save_profile(self, profile: AgentProfile) -> str | None: ...

    async def state(self, agent_id: str) -> AgentState | None: ...

    async def roster(self) -> list[AgentState]: ...

    async def claim(self, agent_id: str, kind: str, now: datetime) -> bool: ...

    async def release(self, agent_id: str, kind: str, now: datetime, *, finished: bool) -> None: ...
