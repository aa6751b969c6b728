"""Analytics' application service: every consumed event becomes facts, matched on the
typed event classes of `s8_shared.contracts`.

The handlers (`adapters/handlers.py`) apply each event id once; the facts themselves are
written idempotently too (a ticket is counted once even when an event comes again under a
new id, e.g. re-announced after a crash)."""

from __future__ import annotations

from typing import Any

from s8_analytics.metrics import TicketMetrics
from s8_analytics.ports import Facts, SlaOutcome, TicketSnapshots
from s8_shared.contracts import Event, TicketSnapshot, TicketStatusChanged
from s8_shared.contracts.assignments import TicketEscalated, TicketQueued, TicketReassigned
from s8_shared.contracts.problems import (
    CustomerNotified,
    ProblemDeclared,
    ProblemResolved,
    ProblemUpdated,
)
from s8_shared.contracts.sla import SlaBreached, SlaCancelled, SlaMet
from s8_shared.contracts.surveys import SurveyRequested, SurveyResponded
from s8_shared.contracts.tickets import BotConversationHandled
from s8_shared.projections import snapshot_of


class AnalyticsService:
    def __init__(self, *, facts: Facts, tickets: TicketSnapshots, metrics: TicketMetrics) -> None:
        self.facts = facts
        self.tickets = tickets
        self.metrics = metrics

    async def on_ticket(self, event: Event[Any]) -> None:
        """Ticket events (and the bot conversations intake publishes beside them)."""
        match event:
            case BotConversationHandled(payload=bot):
                await self.facts.bot_handled(bot.conversation_id, event.occurred_at)
                return
            case TicketStatusChanged(payload=changed):
                await self._snapshot(changed.ticket, event.type)
                await self.facts.status_change(
                    changed.ticket_id, changed.to_status.value, event.occurred_at
                )
            case _:
                snapshot = snapshot_of(event.payload)
                if snapshot is not None:
                    await self._snapshot(snapshot, event.type)

    async def _snapshot(self, snapshot: TicketSnapshot, event_type: str) -> None:
        """The latest snapshot, the ticket counted once and its first reply timed once."""
        self.tickets.queue(snapshot, event_type)
        labels = (snapshot.channel.value, snapshot.priority.value)
        if await self.facts.once(snapshot.ticket_id, "counted"):
            self.metrics.created.labels(*labels).inc()
        if snapshot.first_agent_reply_at and await self.facts.once(
            snapshot.ticket_id, "first_reply_seen"
        ):
            seconds = (snapshot.first_agent_reply_at - snapshot.created_at).total_seconds()
            self.metrics.first_response.labels(*labels).observe(max(0.0, seconds))

    async def on_assignment(self, event: Event[Any]) -> None:
        """Who holds each ticket, since when, and how often it moved."""
        p = event.payload
        if isinstance(event, TicketQueued):
            await self.facts.queued(p.ticket_id, event.occurred_at)
            if p.agent_id is None:  # the ticket's facts exist now: nothing moved, none holds it
                return
        moved = isinstance(event, TicketReassigned | TicketEscalated)
        await self.facts.assignment(p.ticket_id, p.agent_id, event.occurred_at, moved=moved)

    async def on_sla(self, event: Event[Any]) -> None:
        """Each SLA clock's outcome: met, breached or cancelled."""
        outcome: SlaOutcome | None = None  # started, warned, paused, resumed: no outcome yet
        match event:
            case SlaBreached():
                outcome = "breached"
            case SlaMet():
                outcome = "met"
            case SlaCancelled():
                outcome = "cancelled"
        p = event.payload
        await self.facts.sla_event(
            p.clock_id, p.ticket_id, p.target, event.occurred_at, outcome=outcome
        )

    async def on_survey(self, event: Event[Any]) -> None:
        """Surveys sent and answered (the latest revision of an answer counts)."""
        match event:
            case SurveyRequested(payload=p):
                fields = {"kind": p.kind, "ticket_id": p.ticket_id, "customer_id": p.customer_id}
                await self.facts.survey_sent(p.survey_id, fields, event.occurred_at)
            case SurveyResponded(payload=answer):
                answered = {
                    "kind": answer.kind,
                    "ticket_id": answer.ticket_id,
                    "customer_id": answer.customer_id,
                    "score": answer.score,
                    "answered_at": answer.answered_at,
                }
                await self.facts.survey_answer(answer.survey_id, answered, answer.revision)

    async def on_problem(self, event: Event[Any]) -> None:
        """Known problems and the proactive notices sent about them."""
        match event:
            case CustomerNotified(payload=notice):
                contact = {
                    "problem_id": notice.problem_id,
                    "customer_id": notice.customer_id,
                    "notice": notice.notice,
                    "proactive": notice.proactive,
                    "ticket_id": notice.ticket_id,
                    "channel": notice.channel.value,
                    "at": event.occurred_at,
                }
                await self.facts.proactive_contact(notice.outbound_id, contact)
            case (
                ProblemDeclared(payload=p) | ProblemUpdated(payload=p) | ProblemResolved(payload=p)
            ):
                problem = p.problem
                fields = {
                    "title": problem.title.en or problem.title.vi,
                    "status": problem.status.value,
                    "declared_at": problem.declared_at,
                }
                await self.facts.problem(p.problem_id, problem.update_seq, fields)
