"""Consumers several services share: keeping a projection of ticket events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faststream.kafka.annotations import KafkaMessage

from s8_shared import topics
from s8_shared.contracts import TICKET_EVENTS, Event
from s8_shared.handling import EventApplier
from s8_shared.projections import TicketProjection, snapshot_of
from s8_shared.runtime import ServiceRuntime

Effect = Callable[[Event[Any]], Awaitable[None]]


def consume_ticket_events(
    runtime: ServiceRuntime, projection: TicketProjection, then: Effect | None = None
) -> None:
    """Keeps `projection` current from `support.tickets.v1`, each event applied once,
    then runs the service's own effect."""
    applier = EventApplier(
        TICKET_EVENTS, runtime.processed, runtime.stats, runtime.topic(topics.TICKETS)
    )

    async def effect(event: Event[Any]) -> None:
        snapshot = snapshot_of(event.payload)
        if snapshot is not None:
            await projection.apply(snapshot, event.type)
        if then is not None:
            await then(event)

    @runtime.subscriber(topics.TICKETS)
    async def on_ticket_event(msg: KafkaMessage) -> None:
        await applier(msg.body, effect)

    runtime.add_indexes(*TicketProjection.INDEXES)
