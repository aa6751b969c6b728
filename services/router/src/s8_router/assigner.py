"""Deciding and announcing: a ticket is assigned to the agent the policy picks (claiming a
slot first, so replicas never over-assign) or queued, and every decision is stored, then
published on `support.assignments.v1` with an id derived from the record, so publishing it
again (after a crash or on redelivery) is recognised downstream."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from enum import Enum

from s8_router.domain.model import Decision, TicketToRoute
from s8_router.domain.policy import RoutingPolicy, choose, place
from s8_router.domain.record import (
    ASSIGNED,
    DECIDING_STATES,
    NEW,
    OFFERED,
    QUEUED,
    Changes,
    DecisionKind,
    RoutingRecord,
    RoutingState,
)
from s8_router.metrics import RouterMetrics
from s8_router.ports import AgentRoster, RoutingRecords
from s8_shared import topics
from s8_shared.contracts import Event, Priority, deterministic_id
from s8_shared.contracts.assignments import (
    AssignmentPayload,
    TicketAssigned,
    TicketEscalated,
    TicketQueued,
    TicketReassigned,
    TicketUnassigned,
)
from s8_shared.kafka.publisher import Publisher

PRODUCER = "s8-router"
EVENT_CLASSES: Mapping[DecisionKind, type[Event[AssignmentPayload]]] = {
    DecisionKind.ASSIGNED: TicketAssigned,
    DecisionKind.QUEUED: TicketQueued,
    DecisionKind.REASSIGNED: TicketReassigned,
    DecisionKind.ESCALATED: TicketEscalated,
    DecisionKind.UNASSIGNED: TicketUnassigned,
}
CLAIM_ATTEMPTS = 5  # agents whose last slot went to another replica meanwhile are skipped


class Keep(Enum):
    """Leave the record's previous agent as it is."""

    PREVIOUS = "keep"


class Assigner:
    def __init__(
        self,
        *,
        agents: AgentRoster,
        routing: RoutingRecords,
        publisher: Publisher,
        policy: Callable[[], RoutingPolicy],
        metrics: RouterMetrics,
        clock: Callable[[], datetime],
    ) -> None:
        self.agents = agents
        self.routing = routing
        self.publisher = publisher
        self.policy = policy
        self.metrics = metrics
        self.clock = clock
        self._rr_cursor: str | None = None

    async def try_assign(
        self,
        record: RoutingRecord,
        *,
        trigger_at: datetime | None = None,
        preferred: str | None = None,
        previous_agent: str | None = None,
    ) -> bool:
        """Assigns the ticket to the best eligible agent (`preferred` if eligible), or queues
        it; True if it was assigned."""
        route = record.routed
        now = self.clock()
        agents = await self.agents.roster()
        for _ in range(CLAIM_ATTEMPTS):
            decision = choose(route, agents, self.policy(), now, self._rr_cursor)
            if preferred and preferred in decision.eligible:
                decision = Decision(
                    route.ticket_id, preferred, "transfer", decision.eligible, decision.rejected
                )
            if decision.agent_id is None:
                await self.queue(route.ticket_id, decision.reason, decision.rejected, now)
                return False
            if await self.agents.claim(decision.agent_id, route.channel_kind, now):
                kind = DecisionKind.REASSIGNED if previous_agent else DecisionKind.ASSIGNED
                assigned = await self.assign(
                    route,
                    decision,
                    now,
                    from_states=DECIDING_STATES,
                    kind=kind,
                    previous_agent=previous_agent,
                )
                if assigned and trigger_at is not None:
                    self.metrics.assignment_latency.observe(
                        max(0.0, (now - trigger_at).total_seconds())
                    )
                return assigned
            agents = [a for a in agents if a.agent_id != decision.agent_id]
        await self.queue(route.ticket_id, "no_eligible_agent", {}, now)
        return False

    async def assign(
        self,
        route: TicketToRoute,
        decision: Decision,
        now: datetime,
        *,
        from_states: Sequence[RoutingState],
        kind: DecisionKind = DecisionKind.ASSIGNED,
        previous_agent: str | None = None,
    ) -> bool:
        """Stores and announces a decision whose agent's slot is already claimed; gives the
        slot back if another replica placed the ticket first."""
        assert decision.agent_id is not None
        timeout = self.policy().acceptance_timeout_seconds
        changes: Changes = {
            "agent_id": decision.agent_id,
            "assigned_at": now,
            "answered": False,
            "offer_expires_at": now + timedelta(seconds=timeout) if timeout else None,
            "reason": decision.reason,
            "eligible": decision.eligible,
            "rejected": decision.rejected,
            "decision": kind,
            "previous_agent_id": previous_agent,
        }
        record = await self.routing.transition(
            route.ticket_id,
            from_states,
            OFFERED if timeout else ASSIGNED,
            changes,
            new_assignment=True,
        )
        if record is None:
            await self.agents.release(decision.agent_id, route.channel_kind, now, finished=False)
            return False
        if record.queued_at:
            self.metrics.time_in_queue.labels(route.priority).observe(
                (now - record.queued_at).total_seconds()
            )
        await self.routing.remember_agent(record.customer_id, decision.agent_id, now)
        self._rr_cursor = decision.agent_id
        await self.announce(record)
        return True

    async def queue(
        self,
        ticket_id: str,
        reason: str,
        rejected: Mapping[str, str],
        now: datetime,
        *,
        kind: DecisionKind = DecisionKind.QUEUED,
        previous_agent: str | Keep | None = Keep.PREVIOUS,
    ) -> None:
        """The one way a ticket waiting for a decision joins the queue (announced once: only
        the replica whose update moved it announces)."""
        changes: Changes = {
            "queued_at": now,
            "agent_id": None,
            "reason": reason,
            "eligible": (),
            "rejected": rejected,
            "decision": kind,
        }
        if not isinstance(previous_agent, Keep):
            changes["previous_agent_id"] = previous_agent
        queued = await self.routing.transition(
            ticket_id, [NEW], QUEUED, changes, new_assignment=True
        )
        if queued is not None:
            await self.announce(queued)

    async def drain(self) -> int:
        """Places queued tickets, most urgent (after aging) first, while capacity lasts."""
        records = {r.ticket_id: r for r in await self.routing.queue_head() if r.route}
        now = self.clock()
        decisions, _ = place(
            [r.routed for r in records.values()], await self.agents.roster(), self.policy(), now
        )
        placed = 0
        for decision in decisions:
            if decision.agent_id is None:
                continue
            route = records[decision.ticket_id].routed
            if await self.agents.claim(
                decision.agent_id, route.channel_kind, now
            ) and await self.assign(route, decision, now, from_states=[QUEUED]):
                placed += 1
        await self.refresh_gauges()
        return placed

    # --- announcing ------------------------------------------------------------------
    def event(self, record: RoutingRecord, seq: int | str) -> Event[AssignmentPayload]:
        route = record.routed
        kind = record.decision or DecisionKind.ASSIGNED
        return EVENT_CLASSES[kind](
            type=kind.value,
            event_id=deterministic_id(route.ticket_id, seq, kind.value),
            producer=PRODUCER,
            payload=AssignmentPayload(
                ticket_id=route.ticket_id,
                agent_id=record.agent_id,
                previous_agent_id=record.previous_agent_id,
                channel_kind=route.channel_kind,
                priority=Priority(route.priority),
                tier=route.tier_required,
                reason=record.reason,
                eligible=list(record.eligible),
                rejected=dict(record.rejected),
                waited_seconds=max(0.0, (self.clock() - route.waiting_since).total_seconds()),
                offer_expires_at=record.offer_expires_at if record.state is OFFERED else None,
            ),
        )

    async def announce(self, record: RoutingRecord) -> None:
        """Publishes the record's decision, then marks it published."""
        event = self.event(record, record.seq)
        await self.publisher.publish(topics.ASSIGNMENTS, event)
        await self.routing.mark_announced(record.ticket_id, record.seq)
        self.metrics.decisions.labels(event.type, event.payload.reason).inc()

    async def announce_again(self, record: RoutingRecord) -> None:
        """A crash between storing a decision and publishing it: publish it now (same id)."""
        if record.announced_seq != record.seq:
            await self.announce(record)

    async def announce_release(self, record: RoutingRecord, agent_id: str, reason: str) -> None:
        """`agent_id` no longer holds the ticket (its own event id: not a stored decision)."""
        released = replace(
            record,
            decision=DecisionKind.UNASSIGNED,
            reason=reason,
            agent_id=None,
            previous_agent_id=agent_id,
        )
        await self.publisher.publish(
            topics.ASSIGNMENTS, self.event(released, f"{record.seq}-released")
        )

    async def refresh_gauges(self) -> None:
        self.metrics.queue_depth.clear()
        for (priority, skills), n in (await self.routing.queue_depth()).items():
            self.metrics.queue_depth.labels(priority, skills).set(n)
        self.metrics.agents_online.clear()
        self.metrics.occupancy.clear()
        for state in await self.agents.roster():
            self.metrics.occupancy.labels(state.agent_id, state.team).set(state.occupancy())
            if state.presence == "online":
                self.metrics.agents_online.labels(state.team).inc()
