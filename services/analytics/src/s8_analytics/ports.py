"""What analytics' application service needs from the outside world: the composition root
(`app.py`) wires the store's adapters, unit tests wire in-memory fakes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

from s8_shared.contracts import TicketSnapshot

SlaOutcome = Literal["breached", "met", "cancelled"]


class Facts(Protocol):
    """The facts KPIs are computed from, each written idempotently and order-tolerantly."""

    async def once(self, ticket_id: str, flag: str) -> bool: ...

    async def bot_handled(self, conversation_id: str, at: datetime) -> None: ...

    async def status_change(self, ticket_id: str, to_status: str, at: datetime) -> None: ...

    async def queued(self, ticket_id: str, at: datetime) -> None: ...

    async def assignment(
        self, ticket_id: str, agent_id: str | None, at: datetime, *, moved: bool
    ) -> None: ...

    async def sla_event(
        self,
        clock_id: str,
        ticket_id: str,
        target: str,
        at: datetime,
        *,
        outcome: SlaOutcome | None,
    ) -> None: ...

    async def survey_sent(self, survey_id: str, fields: dict[str, Any], at: datetime) -> None: ...

    async def survey_answer(
        self, survey_id: str, fields: dict[str, Any], revision: int
    ) -> None: ...

    async def problem(self, problem_id: str, update_seq: int, fields: dict[str, Any]) -> None: ...

    async def proactive_contact(self, outbound_id: str, fields: dict[str, Any]) -> None: ...


class TicketSnapshots(Protocol):
    """The latest snapshot of every ticket (version-ordered)."""

    def queue(self, snapshot: TicketSnapshot, event_type: str) -> None:
        """Stores the snapshot with the batch's writes, unless a newer version is stored."""
        ...
