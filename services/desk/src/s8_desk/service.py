"""The desk's application service: the read model follows the topics (tickets and their
conversation, routing decisions, SLA clocks, compensation, surveys, agents) and each event
that concerns an agent leaves a notice for their live stream."""

from __future__ import annotations

from typing import Any

from s8_desk.domain import cards, notices
from s8_desk.domain.notices import Due
from s8_desk.domain.search import terms
from s8_desk.ports import DeskRecords
from s8_shared.contracts import (
    AgentProfile,
    AssignmentPayload,
    Event,
    MessageInfo,
    SlaPayload,
    TicketSnapshot,
)
from s8_shared.contracts.compensation import (
    CompensationApprovalRequested,
    CompensationGranted,
    CompensationRejected,
)
from s8_shared.contracts.desk import DeskClock
from s8_shared.contracts.surveys import SurveyResponded
from s8_shared.contracts.tickets import TicketCreated, TicketMessageAdded


class DeskService:
    def __init__(self, store: DeskRecords) -> None:
        self.store = store

    async def on_ticket_event(self, event: Event[Any]) -> None:
        match event:
            case CompensationGranted(payload=p) | CompensationRejected(payload=p):
                await self.store.keep_offer(p.offer)
            case CompensationApprovalRequested(payload=p):
                await self.store.keep_offer(p.offer)
                card = await self.store.card(p.ticket_id)
                # The leads of the ticket's team; every lead if that team has none.
                leads = await self.store.leads(card.get("team") if card else None) or await self.store.leads(None)  # fmt: skip
                due = notices.on_approval_requested(p.ticket_id, p.offer.offer_id, event.occurred_at, leads)  # fmt: skip
                await self._notify(event, due)
            case TicketCreated(payload=p):
                said = [*p.transcript, p.first_message]
                await self._snapshot(p.ticket, said)
                await self.store.add_messages(p.ticket_id, said)
            case TicketMessageAdded(payload=p):
                before = await self._snapshot(p.ticket, [p.message])
                await self.store.add_messages(p.ticket_id, [p.message])
                held_by = before.get("agent_id") if before else await self._holder(p.ticket_id)
                await self._notify(event, notices.on_message(p.ticket_id, p.message, held_by))
            case _ if isinstance(getattr(event.payload, "ticket", None), TicketSnapshot):
                await self._snapshot(event.payload.ticket, [])

    async def _snapshot(self, snap: TicketSnapshot, said: list[MessageInfo]) -> dict[str, Any] | None:  # fmt: skip
        words = terms([snap.subject, snap.ticket_id, *(m.text for m in said if m.public)])
        before = await self.store.apply_snapshot(snap, cards.snapshot_fields(snap), words)
        if before is None and said:  # an older snapshot: its message still counts for search
            await self.store.add_terms(snap.ticket_id, words)
        return before

    async def _holder(self, ticket_id: str) -> str | None:
        card = await self.store.card(ticket_id)
        return card.get("agent_id") if card else None

    async def on_assignment(self, event: Event[AssignmentPayload]) -> None:
        decision = event.payload
        why = cards.explained(event.type, decision, event.occurred_at)
        before = await self.store.set_holder(
            decision.ticket_id, cards.holder_fields(event.type, decision), why
        )
        held_by = before.get("agent_id") if before else None
        await self._notify(event, notices.on_decision(event.type, decision, event.occurred_at, held_by))  # fmt: skip

    async def on_sla(self, event: Event[SlaPayload]) -> None:
        clock = event.payload
        if event.type not in cards.CLOCK_STATES:
            return
        after = await self.store.set_clock(
            clock.ticket_id, cards.clock_of(event.type, clock, event.occurred_at)
        )
        stored = {k: DeskClock.model_validate(v) for k, v in (after.get("clocks") or {}).items()}
        await self.store.set_fields(clock.ticket_id, cards.sla_fields(stored))
        held_by = after.get("agent_id")
        await self._notify(event, notices.on_sla(event.type, clock, event.occurred_at, held_by))

    async def on_survey(self, event: Event[Any]) -> None:
        if isinstance(event, SurveyResponded) and event.payload.kind == "csat":
            answer = event.payload
            await self.store.keep_csat(answer.customer_id, answer.score, answer.answered_at)

    async def on_agent(self, profile: AgentProfile) -> None:
        await self.store.keep_agent(profile)

    async def _notify(self, event: Event[Any], due: list[Due]) -> None:
        await self.store.add_notices(str(event.event_id), due)
