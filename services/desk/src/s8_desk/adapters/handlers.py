"""Kafka handlers of the desk: each topic's events applied once per event id to the read
model (`DeskService`); the agents' profiles kept for teams and leads."""

from __future__ import annotations

from typing import Any

from s8_desk.service import DeskService
from s8_shared import topics
from s8_shared.contracts import (
    ASSIGNMENT_EVENTS,
    SLA_EVENTS,
    SURVEY_EVENTS,
    TICKET_EVENTS,
    Event,
    EventFamily,
)
from s8_shared.contracts.agents import decode_profile
from s8_shared.contracts.compensation import COMPENSATION_EVENTS
from s8_shared.contracts.surveys import SurveyResponded
from s8_shared.runtime import ServiceRuntime

TICKET_TOPIC_EVENTS = EventFamily(
    "tickets and compensation",
    (*TICKET_EVENTS.types.values(), *COMPENSATION_EVENTS.types.values()),
)


def register_handlers(runtime: ServiceRuntime, service: DeskService) -> None:
    tickets = runtime.applier(TICKET_TOPIC_EVENTS, topics.TICKETS)
    assignments = runtime.applier(ASSIGNMENT_EVENTS, topics.ASSIGNMENTS)
    sla = runtime.applier(SLA_EVENTS, topics.SLA)
    surveys = runtime.applier(SURVEY_EVENTS, topics.SURVEYS, handles=(SurveyResponded,))
    agents_topic = runtime.topic(topics.AGENTS)

    @runtime.event_subscriber(topics.TICKETS, tickets)
    async def on_ticket_event(event: Event[Any]) -> None:
        """Tickets, their conversation and compensation offers; a customer's answer and an
        approval request notify the agents concerned."""
        await service.on_ticket_event(event)

    @runtime.event_subscriber(topics.ASSIGNMENTS, assignments)
    async def on_assignment(event: Event[Any]) -> None:
        """Who holds each ticket and why; the agents it concerns are notified."""
        await service.on_assignment(event)

    @runtime.event_subscriber(topics.SLA, sla)
    async def on_sla_event(event: Event[Any]) -> None:
        """Each ticket's clocks and its SLA standing; warnings and breaches notify its holder."""
        await service.on_sla(event)

    @runtime.event_subscriber(topics.SURVEYS, surveys, linger=True)
    async def on_survey_event(event: Event[Any]) -> None:
        """Customers' latest CSAT, for the ticket page's customer summary."""
        await service.on_survey(event)

    @runtime.subscriber(topics.AGENTS)
    async def on_agent(body: bytes) -> None:
        """Agents' teams and who leads them (an empty body is a compacted-topic tombstone)."""
        if not body:
            return
        profile = decode_profile(body)
        await service.on_agent(profile)
        runtime.stats.count(agents_topic, "agent.profile", "applied")
