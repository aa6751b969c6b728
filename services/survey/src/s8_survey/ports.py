"""What the survey service needs from the outside world, as small ports: its store (with the
outbox inside each survey), a publisher (`s8_shared.kafka.publisher.Publisher`) and a clock.
`app.py` wires the real adapters; unit tests wire in-memory ones
(`adapters/memory_store.py`, `s8_testing.fakes.RecordingPublisher`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from s8_shared.mongo import Document
from s8_shared.outbox import OutboxItem

Clock = Callable[[], datetime]


class SurveyOutbox(Protocol):
    """Events stored with a survey's change, kept until they are published."""

    async def items(self, doc_id: str) -> list[OutboxItem]: ...

    async def remove(self, doc_id: str, event_ids: Sequence[str]) -> None: ...

    async def pending(self, limit: int = 100) -> list[str]: ...


class SurveyRepository(Protocol):
    """Surveys and each customer's survey history (`adapters/survey_store.py`)."""

    @property
    def outbox(self) -> SurveyOutbox: ...

    async def schedule(self, survey: Document) -> bool: ...

    async def get(self, survey_id: str) -> Document | None: ...

    async def for_ticket(self, ticket_id: str, kind: str) -> Document | None: ...

    async def next_due(self, now: datetime) -> Document | None: ...

    async def mark_sent(
        self, survey_id: str, now: datetime, events: Sequence[OutboxItem]
    ) -> bool: ...

    async def record_answer(
        self, survey_id: str, revision: int, fields: dict[str, Any], events: Sequence[OutboxItem]
    ) -> Document | None: ...

    async def customer(self, customer_id: str) -> Document: ...

    async def note_solved(self, customer_id: str, ticket_id: str) -> int: ...

    async def note_planned(self, customer_id: str, kind: str, at: datetime) -> None: ...

    async def rates(self) -> dict[str, dict[str, int]]: ...
