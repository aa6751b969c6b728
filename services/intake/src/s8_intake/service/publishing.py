"""Publishing what intake stores: ticket outboxes (flushed after each change and swept
after a crash), problem and compensation outboxes, and events that are never stored (a bot
conversation without handoff). Everything published is counted by topic, so the live
view and dashboards see every event intake writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from s8_intake.adapters.outbox import OutboxItem, outbox_item
from s8_intake.ports import Broker, TicketOutboxes
from s8_shared.contracts import Event
from s8_shared.kafka.publisher import JSON_HEADERS
from s8_shared.observability.tracing import current_trace_headers
from s8_shared.topics import TopicSpec


class PublishedCounter(Protocol):
    """`IntakeMetrics.published`: a counter labelled by topic."""

    def labels(self, topic: str) -> Any: ...


def traced(events: Sequence[Event[Any]]) -> list[Event[Any]]:
    """The events with the active trace recorded, so their publish (now or by the sweeper)
    continues it."""
    trace = current_trace_headers()
    return [e if e.trace else e.model_copy(update={"trace": trace}) for e in events]


class OutboxPublisher:
    def __init__(
        self, *, publisher: Broker, tickets: TicketOutboxes, published: PublishedCounter
    ) -> None:
        self.publisher = publisher
        self.tickets = tickets
        self.published = published

    async def publish_raw(
        self,
        spec: TopicSpec,
        value: bytes,
        *,
        key: bytes | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        await self.publisher.publish_raw(spec, value, key=key, headers=headers)
        self.published.labels(spec.base_name).inc()

    async def publish_items(self, items: Sequence[OutboxItem]) -> None:
        for item in items:
            await self.publish_raw(
                item.spec, item.body.encode(), key=item.key.encode(), headers=JSON_HEADERS
            )

    async def publish(self, spec: TopicSpec, event: Event[Any]) -> None:
        """An event that is not stored first (repeating it repeats its id)."""
        await self.publisher.publish(spec, event)
        self.published.labels(spec.base_name).inc()

    async def flush(self, ticket_id: str) -> int:
        """Publishes what the ticket's outbox holds, in order, then forgets it."""
        items = await self.tickets.outbox(ticket_id)
        await self.publish_items(items)
        if items:
            await self.tickets.remove_from_outbox(ticket_id, [i.event_id for i in items])
        return len(items)

    async def flush_new(self, ticket_id: str, events: Sequence[Event[Any]]) -> int:
        """Publishes the events a new ticket was stored with, without reading them back:
        they are the first in its outbox, so a later change's flush publishes them before
        its own (order kept) and at worst once more (same event ids)."""
        items = [outbox_item(e) for e in events]
        await self.publish_items(items)
        if items:
            await self.tickets.remove_from_outbox(ticket_id, [i.event_id for i in items])
        return len(items)

    async def sweep_outboxes(self) -> int:
        """Publishes outboxes left behind by a crash between store and publish."""
        published = 0
        for ticket_id in await self.tickets.with_outbox():
            published += await self.flush(ticket_id)
        return published
