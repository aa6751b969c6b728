"""Kafka handlers of analytics: every event family becomes facts, each event id once.

Each topic carries a family of event types (skipped when unknown, dead-lettered at once
when invalid), so the handlers decode with the family (`EventApplier`) rather than with
one typed FastStream parameter; the service matches on the decoded classes."""

from __future__ import annotations

from typing import Any

from s8_analytics.service import AnalyticsService
from s8_shared import topics
from s8_shared.contracts import (
    ASSIGNMENT_EVENTS,
    SLA_EVENTS,
    SURVEY_EVENTS,
    TICKET_EVENTS,
    Event,
    EventFamily,
)
from s8_shared.contracts.problems import PROBLEM_EVENTS
from s8_shared.contracts.sla import SlaBreached, SlaCancelled, SlaMet
from s8_shared.contracts.tickets import BotConversationHandled
from s8_shared.kafka.batches import QueuedWrites
from s8_shared.runtime import ServiceRuntime

# Analytics also reads the bot conversations intake publishes on the tickets topic.
TICKET_TOPIC_EVENTS = EventFamily(
    "ticket topic", (*TICKET_EVENTS.types.values(), BotConversationHandled)
)


def register_handlers(
    runtime: ServiceRuntime, service: AnalyticsService, *, writes: QueuedWrites
) -> None:
    """`writes`: the ticket snapshots the service queues while a batch is applied."""

    tickets = runtime.applier(TICKET_TOPIC_EVENTS, topics.TICKETS)
    assignments = runtime.applier(ASSIGNMENT_EVENTS, topics.ASSIGNMENTS)
    # A clock's fact is its outcome: started, warned, paused and resumed change none.
    sla = runtime.applier(SLA_EVENTS, topics.SLA, handles=(SlaBreached, SlaMet, SlaCancelled))
    surveys = runtime.applier(SURVEY_EVENTS, topics.SURVEYS)
    problems = runtime.applier(PROBLEM_EVENTS, topics.PROBLEMS)

    @runtime.event_subscriber(topics.PROBLEMS, problems, linger=True)
    async def on_problem_event(event: Event[Any]) -> None:
        """Known problems and the proactive notices sent about them."""
        await service.on_problem(event)

    @runtime.event_subscriber(topics.TICKETS, tickets, linger=True, writes=writes)
    async def on_ticket_event(event: Event[Any]) -> None:
        """The latest snapshot of every ticket (version-ordered)."""
        await service.on_ticket(event)

    @runtime.event_subscriber(topics.ASSIGNMENTS, assignments, linger=True)
    async def on_assignment_event(event: Event[Any]) -> None:
        """Who holds each ticket, since when, and how often it moved."""
        await service.on_assignment(event)

    @runtime.event_subscriber(topics.SLA, sla, linger=True)
    async def on_sla_event(event: Event[Any]) -> None:
        """Each SLA clock's outcome: met, breached or cancelled."""
        await service.on_sla(event)

    @runtime.event_subscriber(topics.SURVEYS, surveys, linger=True)
    async def on_survey_event(event: Event[Any]) -> None:
        """Surveys sent and answered (the latest revision of an answer counts)."""
        await service.on_survey(event)
