"""Kafka handlers of survey."""

from __future__ import annotations

from s8_shared.consumers import consume_ticket_events
from s8_shared.projections import TicketProjection
from s8_shared.runtime import ServiceRuntime


def register_handlers(runtime: ServiceRuntime, projection: TicketProjection) -> None:
    # Walking skeleton: keep the ticket projection current; the service's own
    # decisions are added on top of it.
    consume_ticket_events(runtime, projection)
