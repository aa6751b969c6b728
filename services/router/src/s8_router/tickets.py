"""What ticket and SLA events do to routing: a ticket that needs an agent is routed, a
transferred one re-routed, an escalated one moved up a tier, a solved or closed one
releases its agent's slot (and the queue is drained into it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from s8_router.assigner import Assigner
from s8_router.domain.model import Decision
from s8_router.domain.policy import RoutingPolicy, choose, escalate
from s8_router.domain.record import (
    CLOSED,
    HELD_STATES,
    NEW,
    OPEN_STATES,
    QUEUED,
    SOLVED,
    DecisionKind,
    RoutingRecord,
    RoutingState,
)
from s8_router.domain.translators import ticket_from_snapshot
from s8_router.ports import AgentRoster, RoutingRecords
from s8_shared.contracts import Author, TicketEvent, TicketSnapshot, TicketStatus
from s8_shared.contracts.tickets import TicketMerged, TicketMessageAdded, TicketTransferred

ROUTABLE = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.ON_HOLD, TicketStatus.PENDING)
ANSWERABLE = (TicketStatus.OPEN, TicketStatus.NEW)  # a message on these routes the ticket
FIELD = "field"


@dataclass(frozen=True, kw_only=True)
class TicketRouting:
    agents: AgentRoster
    routing: RoutingRecords
    assigner: Assigner
    policy: Callable[[], RoutingPolicy]
    clock: Callable[[], datetime]

    async def on_ticket_event(self, event: TicketEvent) -> None:
        snap = event.payload.ticket
        match event:
            case TicketMessageAdded(payload=added):
                if added.message.author is Author.AGENT and added.message.public:
                    await self.routing.mark_answered(snap.ticket_id)
                if snap.status in ANSWERABLE:
                    await self._follow(snap, event)
            case TicketMerged():
                await self.finish(snap.ticket_id, CLOSED)
            case _:
                await self._follow(snap, event)

    async def _follow(self, snap: TicketSnapshot, event: TicketEvent) -> None:
        """The ticket's status decides: released when done, routed while it needs an agent."""
        if snap.status is TicketStatus.CLOSED:
            await self.finish(snap.ticket_id, CLOSED)
        elif snap.status is TicketStatus.SOLVED:
            await self.finish(snap.ticket_id, SOLVED)
        elif _self_service_handles(snap):
            return
        else:
            match event:
                case TicketTransferred(payload=transfer):
                    await self.transfer(snap, transfer.to_agent_id, event.occurred_at)
                case _ if snap.status in ROUTABLE:
                    await self.route(snap, event.occurred_at)

    async def route(self, snap: TicketSnapshot, since: datetime) -> None:
        record = await self._register(snap, since)
        if record.state in HELD_STATES:  # decided already: this is a redelivery or an update
            await self.assigner.announce_again(record)
            return
        await self.assigner.try_assign(record, trigger_at=since)

    async def route_record(self, record: RoutingRecord) -> None:
        """Decides a record that never got a decision (the reconciler's way)."""
        await self.assigner.try_assign(record)

    async def _register(self, snap: TicketSnapshot, since: datetime) -> RoutingRecord:
        """The stored record keeps the time the ticket first waited (`since` if new)."""
        previous, previous_at = await self.routing.previous_agent(snap.customer_id)
        route = ticket_from_snapshot(snap, self.policy(), since, previous, previous_at)
        record = await self.routing.register(route, snap.customer_id, snap.version)
        if record.state in (SOLVED, CLOSED) and snap.status in ANSWERABLE:
            # Reopened: route again (the previous agent is preferred by stickiness).
            record = await self.routing.transition(snap.ticket_id, [SOLVED], NEW) or record
        return record

    async def finish(self, ticket_id: str, state: RoutingState) -> None:
        before = await self.routing.transition(
            ticket_id, OPEN_STATES, state, {"agent_id": None}, before=True
        )
        if before is None:
            return
        if before.agent_id:
            kind = before.routed.channel_kind
            await self.agents.release(before.agent_id, kind, self.clock(), finished=True)
            await self.assigner.drain()

    async def transfer(self, snap: TicketSnapshot, to_agent: str | None, at: datetime) -> None:
        before = await self.routing.transition(
            snap.ticket_id, OPEN_STATES, NEW, {"agent_id": None}, before=True
        )
        previous = before.agent_id if before else None
        if before and previous:
            kind = before.routed.channel_kind
            await self.agents.release(previous, kind, self.clock(), finished=False)
        record = await self._register(snap, at)
        if record.state is not NEW:
            record = await self.routing.transition(snap.ticket_id, [QUEUED], NEW) or record
        await self.assigner.try_assign(record, preferred=to_agent, previous_agent=previous)
        if previous:
            await self.assigner.drain()

    async def escalate(self, ticket_id: str, reason: str) -> None:
        """One tier up (from the higher of the ticket's and its holder's), then re-routed."""
        record = await self.routing.get(ticket_id)
        if record is None or record.state not in OPEN_STATES or record.route is None:
            return
        route = record.route
        holder = await self.agents.state(record.agent_id) if record.agent_id else None
        order = self.policy().tier_order
        current = max(
            (t for t in (route.tier_required, holder and holder.tier) if t and t != FIELD),
            key=lambda t: order.index(t) if t in order else -1,
            default=None,
        )
        new_tier = escalate(current, self.policy())
        if new_tier == current and holder is not None:
            return  # already at the top tier and handled
        await self.routing.require_tier(ticket_id, new_tier)
        before = await self.routing.transition(
            ticket_id, OPEN_STATES, NEW, {"agent_id": None}, before=True
        )
        previous = before.agent_id if before else None
        if previous:
            await self.agents.release(previous, route.channel_kind, self.clock(), finished=False)
        moved = await self.routing.get(ticket_id)
        assert moved is not None
        route = moved.routed
        now = self.clock()
        decision = choose(route, await self.agents.roster(), self.policy(), now, None)
        if decision.agent_id and await self.agents.claim(
            decision.agent_id, route.channel_kind, now
        ):
            escalated = Decision(
                ticket_id, decision.agent_id, reason, decision.eligible, decision.rejected
            )
            await self.assigner.assign(
                route,
                escalated,
                now,
                from_states=[NEW],
                kind=DecisionKind.ESCALATED,
                previous_agent=previous,
            )
            return
        await self.assigner.queue(
            ticket_id,
            reason,
            decision.rejected,
            now,
            kind=DecisionKind.ESCALATED,
            previous_agent=previous,
        )


def _self_service_handles(snap: TicketSnapshot) -> bool:
    """A FAQ answer or a known problem's fix is handling it; routed if the customer comes
    back (the ticket reopens)."""
    return (
        snap.status is TicketStatus.PENDING
        and bool(snap.deflected or snap.problem_id)
        and snap.agent_replies == 0
    )
