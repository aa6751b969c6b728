"""Kafka handlers of analytics: every event family becomes facts, each event once."""

from __future__ import annotations

from typing import Any

from faststream.kafka.annotations import KafkaMessage

from s8_analytics.adapters.facts import FactStore
from s8_analytics.metrics import TicketMetrics
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
from s8_shared.projections import TicketProjection, snapshot_of
from s8_shared.runtime import ServiceRuntime

# Analytics also reads the bot conversations intake publishes on the tickets topic.
TICKET_TOPIC_EVENTS = EventFamily(
    "ticket topic", (*TICKET_EVENTS.types.values(), BotConversationHandled)
)


def register_handlers(
    runtime: ServiceRuntime, projection: TicketProjection, facts: FactStore, metrics: TicketMetrics
) -> None:
    def applier(family: Any, spec: Any) -> EventApplier:
        return EventApplier(family, runtime.processed, runtime.stats, runtime.topic(spec))

    tickets, assignments = (
        applier(TICKET_TOPIC_EVENTS, topics.TICKETS),
        applier(ASSIGNMENT_EVENTS, topics.ASSIGNMENTS),
    )
    sla, surveys = applier(SLA_EVENTS, topics.SLA), applier(SURVEY_EVENTS, topics.SURVEYS)

    async def on_ticket(event: Any) -> None:
        if event.type == "bot.conversation_handled":
            await facts.bot_handled(event.payload.conversation_id, event.occurred_at)
            return
        snapshot = snapshot_of(event.payload)
        if snapshot is not None:
            await projection.apply(snapshot, event.type)
            labels = (snapshot.channel.value, snapshot.priority.value)
            if await facts.once(snapshot.ticket_id, "counted"):
                metrics.created.labels(*labels).inc()
            if snapshot.first_agent_reply_at and await facts.once(
                snapshot.ticket_id, "first_reply_seen"
            ):
                seconds = (snapshot.first_agent_reply_at - snapshot.created_at).total_seconds()
                metrics.first_response.labels(*labels).observe(max(0.0, seconds))
        if event.type == "ticket.status_changed":
            await facts.status_change(
                event.payload.ticket_id, event.payload.to_status.value, event.occurred_at
            )

    async def on_assignment(event: Any) -> None:
        if event.type == "ticket.queued":
            await facts.queued(event.payload.ticket_id, event.occurred_at)
        await facts.assignment(
            event.payload.ticket_id, event.payload.agent_id, event.occurred_at, event.type
        )

    async def on_sla(event: Any) -> None:
        p = event.payload
        await facts.sla_event(p.clock_id, p.ticket_id, p.target, event.type, event.occurred_at)

    async def on_survey(event: Any) -> None:
        p = event.payload
        if event.type == "survey.requested":
            fields = {"kind": p.kind, "ticket_id": p.ticket_id, "customer_id": p.customer_id}
            await facts.survey_sent(p.survey_id, fields, event.occurred_at)
        elif event.type == "survey.responded":
            fields = {
                "kind": p.kind,
                "ticket_id": p.ticket_id,
                "customer_id": p.customer_id,
                "score": p.score,
                "answered_at": p.answered_at,
            }
            await facts.survey_answer(p.survey_id, fields, p.revision)

    problems = applier(PROBLEM_EVENTS, topics.PROBLEMS)

    async def on_problem(event: Any) -> None:
        p = event.payload
        if event.type == "problem.customer_notified":
            fields = {
                "problem_id": p.problem_id,
                "customer_id": p.customer_id,
                "notice": p.notice,
                "proactive": p.proactive,
                "ticket_id": p.ticket_id,
                "channel": p.channel.value,
                "at": event.occurred_at,
            }
            await facts.proactive_contact(p.outbound_id, fields)
            return
        fields = {
            "title": p.problem.title.en or p.problem.title.vi,
            "status": p.problem.status.value,
            "declared_at": p.problem.declared_at,
        }
        await facts.problem(p.problem_id, p.problem.update_seq, fields)

    @runtime.subscriber(topics.PROBLEMS)
    async def on_problem_event(msg: KafkaMessage) -> None:
        """Known problems and the proactive notices sent about them."""
        await problems(msg.body, on_problem)

    @runtime.subscriber(topics.TICKETS)
    async def on_ticket_event(msg: KafkaMessage) -> None:
        """The latest snapshot of every ticket (version-ordered)."""
        await tickets(msg.body, on_ticket)

    @runtime.subscriber(topics.ASSIGNMENTS)
    async def on_assignment_event(msg: KafkaMessage) -> None:
        """Who holds each ticket, since when, and how often it moved."""
        await assignments(msg.body, on_assignment)

    @runtime.subscriber(topics.SLA)
    async def on_sla_event(msg: KafkaMessage) -> None:
        """Each SLA clock's outcome: met, breached or cancelled."""
        await sla(msg.body, on_sla)

    @runtime.subscriber(topics.SURVEYS)
    async def on_survey_event(msg: KafkaMessage) -> None:
        """Surveys sent and answered (the latest revision of an answer counts)."""
        await surveys(msg.body, on_survey)
