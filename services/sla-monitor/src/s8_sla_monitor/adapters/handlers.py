"""Kafka handlers of the SLA monitor."""

from __future__ import annotations

from typing import Any

from s8_shared import topics
from s8_shared.contracts import TICKET_EVENTS, Event
from s8_shared.kafka.batches import QueuedWrites
from s8_shared.runtime import ServiceRuntime
from s8_sla_monitor.service import SlaService


def register_handlers(
    runtime: ServiceRuntime, service: SlaService, *, writes: QueuedWrites
) -> None:
    """`writes`: the ticket snapshots the service queues while a batch is applied."""
    tickets = runtime.applier(TICKET_EVENTS, topics.TICKETS)

    @runtime.event_subscriber(topics.TICKETS, tickets, writes=writes)
    async def on_ticket_event(event: Event[Any]) -> None:
        """Ticket events start, pause, resume, meet and cancel SLA clocks."""
        await service.on_ticket_event(event)
