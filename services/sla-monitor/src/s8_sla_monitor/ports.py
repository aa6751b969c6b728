"""What the SLA monitor's application service needs from the outside world: the
composition root (`app.py`) wires the store's adapters, unit tests wire in-memory fakes.
The publisher port is `s8_shared.kafka.publisher.Publisher`; the clock is a callable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from s8_shared.contracts import TicketSnapshot
from s8_shared.outbox import OutboxItem
from s8_sla_monitor.domain.clock import Clock


class ClockOutbox(Protocol):
    """The SLA events each clock's change caused, kept until they are published."""

    async def items(self, doc_id: str) -> list[OutboxItem]: ...

    async def remove(self, doc_id: str, event_ids: Sequence[str]) -> None: ...

    async def remove_all(self, published: Mapping[str, Sequence[str]]) -> None: ...

    async def pending(self, limit: int = 100) -> list[str]: ...


@dataclass(frozen=True)
class ClockSave:
    """A clock to store: new (`expected_rev` None) or replacing that revision, with the
    events its change causes for its outbox."""

    clock: Clock
    next_fire_at: datetime | None
    expected_rev: int | None
    events: Sequence[OutboxItem] = ()


class Clocks(Protocol):
    """The clocks, saved by compare-and-set on a revision, with their outboxes."""

    @property
    def outbox(self) -> ClockOutbox: ...

    async def for_ticket(self, ticket_id: str) -> list[tuple[Clock, int, list[OutboxItem]]]: ...

    async def save(
        self,
        clock: Clock,
        next_fire_at: datetime | None,
        expected_rev: int | None,
        events: Sequence[OutboxItem] = (),
    ) -> bool: ...

    async def save_all(self, saves: Sequence[ClockSave]) -> bool:
        """Each clock as `save` stores it; False at the first that changed meanwhile (those
        before it stay stored)."""
        ...

    async def claim_due(
        self, now: datetime, owner: str, lease: timedelta
    ) -> tuple[Clock, int, datetime] | None: ...

    async def tickets_with_open_clocks(self) -> list[str]: ...

    async def open_by_target(self) -> dict[tuple[str, str], int]: ...


class TicketSnapshots(Protocol):
    """The latest snapshot of each ticket (so a policy change can recompute open clocks)."""

    def queue(self, snapshot: TicketSnapshot, event_type: str) -> None:
        """Stores the snapshot with the batch's writes, unless a newer version is stored."""
        ...

    async def get(self, ticket_id: str) -> TicketSnapshot | None: ...
