"""Applying consumed events exactly once in effect, and counting what happened."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from s8_shared.contracts.envelope import Event, EventFamily
from s8_shared.mongo import ProcessedEvents


class EventStats:
    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        self.service = service
        self.processed = Counter(
            "s8_events_processed_total",
            "Consumed events by outcome: applied, duplicate (already applied) or skipped "
            "(a type this version does not handle).",
            ["service", "topic", "type", "outcome"],
            registry=registry,
        )

    def count(self, topic: str, type_name: str, outcome: str) -> None:
        self.processed.labels(self.service, topic, type_name, outcome).inc()


class EventApplier:
    """Decode with a family, skip unknown types, apply each event id once.

    `handles`: the event classes the effect acts on, when it ignores the others of its topic;
    those are skipped without costing the store an idempotency check."""

    def __init__(
        self,
        family: EventFamily,
        processed: ProcessedEvents,
        stats: EventStats,
        topic: str,
        *,
        handles: tuple[type[Event[Any]], ...] = (),
    ) -> None:
        self.family = family
        self.processed = processed
        self.stats = stats
        self.topic = topic
        self.handles = handles

    async def __call__(
        self, raw: bytes, effect: Callable[[Event[Any]], Awaitable[None]]
    ) -> Event[Any] | None:
        event = self.decode(raw)
        if event is None:
            return None
        if await self.processed.seen(event.event_id):
            self.stats.count(self.topic, event.type, "duplicate")
            return event
        await effect(event)
        await self.processed.remember(event.event_id, type=event.type)
        self.stats.count(self.topic, event.type, "applied")
        return event

    # --- in batches (s8_shared.kafka.batches): the ids are checked and remembered per batch
    def decode(self, raw: bytes) -> Event[Any] | None:
        """The event (InvalidMessage when it is not one), or None for a type this version
        or this effect does not handle (counted as skipped)."""
        event = self.family.decode(raw)
        if event is None:
            self.stats.count(self.topic, "unknown", "skipped")
        elif self.handles and not isinstance(event, self.handles):
            self.stats.count(self.topic, event.type, "skipped")
            return None
        return event

    async def apply_unless_done(
        self, event: Event[Any], done: set[str], effect: Callable[[Event[Any]], Awaitable[None]]
    ) -> bool:
        """Applies `event` unless its id is in `done` (remembered before the batch, or applied
        earlier in it), then adds it there; True when applied (to be remembered)."""
        event_id = str(event.event_id)
        if event_id in done:
            self.stats.count(self.topic, event.type, "duplicate")
            return False
        await effect(event)
        done.add(event_id)
        self.stats.count(self.topic, event.type, "applied")
        return True
