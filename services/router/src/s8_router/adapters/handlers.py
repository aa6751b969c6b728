"""Kafka handlers of the router: decode, call the service, done."""

from __future__ import annotations

from typing import Any

from s8_router.service import RouterService
from s8_shared import topics
from s8_shared.contracts import (
    SLA_EVENTS,
    TICKET_EVENTS,
    Event,
    TicketEvent,
)
from s8_shared.contracts.agents import decode_profile
from s8_shared.contracts.sla import SlaBreached, SlaWarning
from s8_shared.runtime import ServiceRuntime


def register_handlers(runtime: ServiceRuntime, service: RouterService) -> None:
    writes = service.routing.writes  # marks and sticky agents, once per batch
    tickets = runtime.applier(TICKET_EVENTS, topics.TICKETS)
    sla = runtime.applier(SLA_EVENTS, topics.SLA, handles=(SlaWarning, SlaBreached))
    agents_topic = runtime.topic(topics.AGENTS)

    @runtime.event_subscriber(topics.TICKETS, tickets, writes=writes)
    async def on_ticket_event(event: Event[Any]) -> None:
        """New, reopened, transferred, solved or merged tickets are (re)routed or released."""
        if isinstance(event, TicketEvent):  # what TICKET_EVENTS decodes
            await service.on_ticket_event(event)

    @runtime.event_subscriber(topics.SLA, sla, writes=writes)
    async def on_sla_event(event: Event[Any]) -> None:
        """An SLA warning or breach moves the ticket up a tier."""
        match event:
            case SlaWarning(payload=clock):
                await service.escalate(clock.ticket_id, "sla_warning")
            case SlaBreached(payload=clock):
                await service.escalate(clock.ticket_id, "sla_breach")

    @runtime.subscriber(topics.AGENTS)
    async def on_agent(body: bytes) -> None:
        """The latest profile of an agent (roster, skills, capacity, presence). Decoded here,
        not by a typed parameter: an empty body is a tombstone to skip, not a bad profile."""
        if not body:
            return  # a tombstone on the compacted topic
        profile = decode_profile(body)
        await service.on_agent_profile(profile)
        runtime.stats.count(agents_topic, "agent.profile", "applied")
