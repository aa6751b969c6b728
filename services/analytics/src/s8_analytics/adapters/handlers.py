"""Kafka handlers of analytics: every event family becomes facts, each event id once.

Each topic carries a family of event types (skipped when unknown, dead-lettered at once
when invalid), so the handlers decode with the family (`EventApplier`) rather than with
one typed FastStream parameter; the service matches on the decoded classes."""

from __future__ import annotations

from s8_analytics.service import AnalyticsService
from s8_shared import topics
from s8_shared.contracts import (
    ASSIGNMENT_EVENTS,
    SLA_EVENTS,
    SURVEY_EVENTS,
    TICKET_EVENTS,
    EventFamily,
)
from s8_shared.contracts.problems import PROBLEM_EVENTS
from s8_shared.contracts.tickets import BotConversationHandled
from s8_shared.handling import EventApplier
from s8_shared.runtime import ServiceRuntime
from s8_shared.topics import TopicSpec

# Analytics also reads the bot conversations intake publishes on the tickets topic.
TICKET_TOPIC_EVENTS = EventFamily(
    "ticket topic", (*TICKET_EVENTS.types.values(), BotConversationHandled)
)


def register_handlers(runtime: ServiceRuntime, service: AnalyticsService) -> None:
    def applier(family: EventFamily, spec: TopicSpec) -> EventApplier:
        return EventApplier(family, runtime.processed, runtime.stats, runtime.topic(spec))

    tickets = applier(TICKET_TOPIC_EVENTS, topics.TICKETS)
    assignments = applier(ASSIGNMENT_EVENTS, topics.ASSIGNMENTS)
    sla = applier(SLA_EVENTS, topics.SLA)
    surveys = applier(SURVEY_EVENTS, topics.SURVEYS)
    problems = applier(PROBLEM_EVENTS, topics.PROBLEMS)

    @runtime.subscriber(topics.PROBLEMS)
    async def on_problem_event(body: bytes) -> None:
        """Known problems and the proactive notices sent about them."""
        await problems(body, service.on_problem)

    @runtime.subscriber(topics.TICKETS)
    async def on_ticket_event(body: bytes) -> None:
        """The latest snapshot of every ticket (version-ordered)."""
        await tickets(body, service.on_ticket)

    @runtime.subscriber(topics.ASSIGNMENTS)
    async def on_assignment_event(body: bytes) -> None:
        """Who holds each ticket, since when, and how often it moved."""
        await assignments(body, service.on_assignment)

    @runtime.subscriber(topics.SLA)
    async def on_sla_event(body: bytes) -> None:
        """Each SLA clock's outcome: met, breached or cancelled."""
        await sla(body, service.on_sla)

    @runtime.subscriber(topics.SURVEYS)
    async def on_survey_event(body: bytes) -> None:
        """Surveys sent and answered (the latest revision of an answer counts)."""
        await surveys(body, service.on_survey)
