"""The router's application service: keeps agents and routing records, claims capacity
atomically, and explains every decision on `support.assignments.v1`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from s8_router.adapters.agent_store import AgentStore, to_state
from s8_router.adapters.routing_store import OPEN_STATES, RoutingStore, route_of
from s8_router.domain.model import Decision, TicketToRoute
from s8_router.domain.policy import RoutingPolicy, choose, escalate, place, ticket_from_snapshot
from s8_router.metrics import RouterMetrics
from s8_shared import topics
from s8_shared.contracts import (
    AgentProfile,
    Event,
    Presence,
    Priority,
    TicketSnapshot,
    deterministic_id,
    utcnow,
)
from s8_shared.contracts.assignments import (
    AssignmentPayload,
    TicketAssigned,
    TicketEscalated,
    TicketQueued,
    TicketReassigned,
    TicketUnassigned,
)
from s8_shared.kafka.publisher import Publisher

log = logging.getLogger("s8.router")
PRODUCER = "s8-router"
EVENT_CLASSES: dict[str, type[Event[AssignmentPayload]]] = {
    "ticket.assigned": TicketAssigned,
    "ticket.queued": TicketQueued,
    "ticket.reassigned": TicketReassigned,
    "ticket.escalated": TicketEscalated,
    "ticket.unassigned": TicketUnassigned,
}
ROUTABLE = ("new", "open", "on_hold", "pending")


class RouterService:
    def __init__(
        self,
        *,
        agents: AgentStore,
        routing: RoutingStore,
        publisher: Publisher,
        policy: Callable[[], RoutingPolicy],
        metrics: RouterMetrics,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.agents = agents
        self.routing = routing
        self.publisher = publisher
        self.policy = policy
        self.metrics = metrics
        self.clock = clock
        self._rr_cursor: str | None = None

    # --- ticket events ----------------------------------------------------------------
    async def on_ticket_event(self, event: Event[Any]) -> None:
        snap: TicketSnapshot = event.payload.ticket
        status = snap.status.value
        if event.type == "ticket.message_added":
            message = event.payload.message
            if message.author.value == "agent" and message.public:
                await self.routing.set_fields(snap.ticket_id, {"answered": True})
            if status not in ("open", "new"):
                return
        if event.type == "ticket.merged" or status == "closed":
            await self.finish(snap.ticket_id, "closed")
            return
        if status == "solved":
            await self.finish(snap.ticket_id, "solved")
            return
        if status == "pending" and (snap.deflected or snap.problem_id) and snap.agent_replies == 0:
            # A FAQ answer or a known problem's fix is handling it; route if the customer
            # comes back.
            return
        if event.type == "ticket.transferred":
            await self.transfer(snap, event)
            return
        if status in ROUTABLE:
            await self.route(snap, event.occurred_at)

    async def route(self, snap: TicketSnapshot, since: datetime) -> None:
        doc = await self._register(snap, since)
        if doc["state"] in ("assigned", "offered"):
            await self._announce_again(doc)
            return
        await self._try_assign(doc, trigger_at=since)

    async def _register(self, snap: TicketSnapshot, since: datetime) -> dict[str, Any]:
        existing = await self.routing.get(snap.ticket_id)
        waiting_since = (
            existing["route"]["waiting_since"] if existing and existing.get("route") else since
        )
        previous, previous_at = await self.routing.previous_agent(snap.customer_id)
        route = ticket_from_snapshot(snap, self.policy(), waiting_since, previous, previous_at)
        doc = await self.routing.register(route, snap.customer_id, snap.version)
        if doc["state"] in ("solved", "closed") and snap.status.value in ("new", "open"):
            # Reopened: route again (the previous agent is preferred by stickiness).
            reopened = await self.routing.transition(snap.ticket_id, ["solved"], {"state": "new"})
            doc = reopened or doc
        return doc

    async def _try_assign(
        self,
        doc: dict[str, Any],
        *,
        trigger_at: datetime | None = None,
        preferred: str | None = None,
        previous_agent: str | None = None,
    ) -> bool:
        route = route_of(doc)
        now = self.clock()
        agents = await self.agents.roster()
        for _ in range(5):
            decision = choose(route, agents, self.policy(), now, self._rr_cursor)
            if preferred and preferred in decision.eligible:
                decision = Decision(
                    route.ticket_id, preferred, "transfer", decision.eligible, decision.rejected
                )
            if decision.agent_id is None:
                await self._queue(doc, route, decision, now)
                return False
            if await self.agents.claim(decision.agent_id, route.channel_kind, now):
                assigned = await self._commit_assignment(
                    route,
                    decision,
                    now,
                    from_states=("new", "queued"),
                    event_type="ticket.reassigned" if previous_agent else "ticket.assigned",
                    previous_agent=previous_agent,
                )
                if assigned and trigger_at is not None:
                    self.metrics.assignment_latency.observe(
                        max(0.0, (now - trigger_at).total_seconds())
                    )
                return assigned
            agents = [
                a for a in agents if a.agent_id != decision.agent_id
            ]  # its last slot went elsewhere
        await self._queue(
            doc, route, Decision(route.ticket_id, None, "no_eligible_agent", (), {}), now
        )
        return False

    async def _commit_assignment(
        self,
        route: TicketToRoute,
        decision: Decision,
        now: datetime,
        *,
        from_states: tuple[str, ...],
        event_type: str = "ticket.assigned",
        previous_agent: str | None = None,
    ) -> bool:
        assert decision.agent_id is not None
        timeout = self.policy().acceptance_timeout_seconds
        updates: dict[str, Any] = {
            "state": "offered" if timeout else "assigned",
            "agent_id": decision.agent_id,
            "assigned_at": now,
            "answered": False,
            "offer_expires_at": now + timedelta(seconds=timeout) if timeout else None,
            "reason": decision.reason,
            "eligible": list(decision.eligible),
            "rejected": dict(decision.rejected),
            "event_type": event_type,
            "previous_agent_id": previous_agent,
        }
        doc = await self.routing.transition(
            route.ticket_id, from_states, updates, new_assignment=True
        )
        if doc is None:  # another replica placed it first: give the slot back
            await self.agents.release(decision.agent_id, route.channel_kind, now, finished=False)
            return False
        if doc.get("queued_at"):
            self.metrics.time_in_queue.labels(route.priority).observe(
                (now - doc["queued_at"]).total_seconds()
            )
        await self.routing.remember_agent(doc["customer_id"], decision.agent_id, now)
        self._rr_cursor = decision.agent_id
        await self._announce(doc)
        return True

    async def _queue(
        self, doc: dict[str, Any], route: TicketToRoute, decision: Decision, now: datetime
    ) -> None:
        queued = await self.routing.transition(
            route.ticket_id,
            ["new"],
            {
                "state": "queued",
                "queued_at": now,
                "agent_id": None,
                "reason": decision.reason,
                "eligible": [],
                "rejected": dict(decision.rejected),
                "event_type": "ticket.queued",
            },
            new_assignment=True,
        )
        if queued is not None:
            await self._announce(queued)

    def _event(self, doc: dict[str, Any]) -> Event[AssignmentPayload]:
        route = route_of(doc)
        event_type: str = doc.get("event_type") or "ticket.assigned"
        now = self.clock()
        since = route.waiting_since
        return EVENT_CLASSES[event_type](
            type=event_type,
            event_id=deterministic_id(route.ticket_id, doc.get("seq", 0), event_type),
            producer=PRODUCER,
            payload=AssignmentPayload(
                ticket_id=route.ticket_id,
                agent_id=doc.get("agent_id"),
                previous_agent_id=doc.get("previous_agent_id"),
                channel_kind=route.channel_kind,
                priority=Priority(route.priority),
                tier=route.tier_required,
                reason=doc.get("reason") or "",
                eligible=list(doc.get("eligible") or []),
                rejected=dict(doc.get("rejected") or {}),
                waited_seconds=max(0.0, (now - since).total_seconds()),
            ),
        )

    async def _announce(self, doc: dict[str, Any]) -> None:
        event = self._event(doc)
        await self.publisher.publish(topics.ASSIGNMENTS, event)
        await self.routing.mark_announced(doc["_id"], doc.get("seq", 0))
        self.metrics.decisions.labels(event.type, event.payload.reason).inc()

    async def announce(self, doc: dict[str, Any]) -> None:
        """Publishes a stored decision (the reconciler's way to finish an interrupted one)."""
        await self._announce(doc)

    async def route_record(self, doc: dict[str, Any]) -> None:
        """Decides a record that never got a decision."""
        await self._try_assign(doc)

    async def _announce_again(self, doc: dict[str, Any]) -> None:
        """A crash between storing a decision and publishing it: publish it now (same id)."""
        if doc.get("announced_seq") != doc.get("seq"):
            await self._announce(doc)

    # --- releasing ----------------------------------------------------------------------
    async def finish(self, ticket_id: str, state: str) -> None:
        before = await self.routing.transition(
            ticket_id, OPEN_STATES, {"state": state, "agent_id": None}, before=True
        )
        if before is None:
            return
        if before.get("agent_id"):
            kind = before["route"]["channel_kind"]
            await self.agents.release(before["agent_id"], kind, self.clock(), finished=True)
            await self.drain()

    async def transfer(self, snap: TicketSnapshot, event: Event[Any]) -> None:
        before = await self.routing.transition(
            snap.ticket_id, OPEN_STATES, {"state": "new", "agent_id": None}, before=True
        )
        previous = before.get("agent_id") if before else None
        if before and previous:
            await self.agents.release(
                previous, before["route"]["channel_kind"], self.clock(), finished=False
            )
        doc = await self._register(snap, event.occurred_at)
        if doc["state"] != "new":
            doc = await self.routing.transition(snap.ticket_id, ["queued"], {"state": "new"}) or doc
        await self._try_assign(doc, preferred=event.payload.to_agent_id, previous_agent=previous)
        if previous:
            await self.drain()

    async def escalate(self, ticket_id: str, reason: str) -> None:
        doc = await self.routing.get(ticket_id)
        if doc is None or doc["state"] not in OPEN_STATES or not doc.get("route"):
            return
        route = route_of(doc)
        holder = await self.agents.get(doc["agent_id"]) if doc.get("agent_id") else None
        current = max(
            (
                t
                for t in (route.tier_required, holder and to_state(holder).tier)
                if t and t != "field"
            ),
            key=lambda t: (
                self.policy().tier_order.index(t) if t in self.policy().tier_order else -1
            ),
            default=None,
        )
        new_tier = escalate(current, self.policy())
        if new_tier == current and holder is not None:
            return  # already at the top tier and handled
        await self.routing.set_fields(ticket_id, {"route.tier_required": new_tier})
        before = await self.routing.transition(
            ticket_id, OPEN_STATES, {"state": "new", "agent_id": None}, before=True
        )
        if before and before.get("agent_id"):
            await self.agents.release(
                before["agent_id"], route.channel_kind, self.clock(), finished=False
            )
        doc = await self.routing.get(ticket_id)
        assert doc is not None
        route = route_of(doc)
        now = self.clock()
        decision = choose(route, await self.agents.roster(), self.policy(), now, None)
        if decision.agent_id and await self.agents.claim(
            decision.agent_id, route.channel_kind, now
        ):
            escalated = Decision(
                ticket_id, decision.agent_id, reason, decision.eligible, decision.rejected
            )
            await self._commit_assignment(
                route,
                escalated,
                now,
                from_states=("new",),
                event_type="ticket.escalated",
                previous_agent=before.get("agent_id") if before else None,
            )
            return
        queued = await self.routing.transition(
            ticket_id,
            ["new"],
            {
                "state": "queued",
                "queued_at": now,
                "reason": reason,
                "event_type": "ticket.escalated",
                "eligible": [],
                "rejected": dict(decision.rejected),
                "previous_agent_id": before.get("agent_id") if before else None,
            },
            new_assignment=True,
        )
        if queued:
            await self._announce(queued)

    # --- capacity appears -----------------------------------------------------------------
    async def drain(self) -> int:
        """Places queued tickets, most urgent (after aging) first, while capacity lasts."""
        docs = {d["_id"]: d for d in await self.routing.queue_head() if d.get("route")}
        now = self.clock()
        decisions, _ = place(
            [route_of(d) for d in docs.values()], await self.agents.roster(), self.policy(), now
        )
        placed = 0
        for decision in decisions:
            if decision.agent_id is None:
                continue
            route = route_of(docs[decision.ticket_id])
            if await self.agents.claim(
                decision.agent_id, route.channel_kind, now
            ) and await self._commit_assignment(route, decision, now, from_states=("queued",)):
                placed += 1
        await self.refresh_gauges()
        return placed

    # --- agents --------------------------------------------------------------------------
    async def on_agent_profile(self, profile: AgentProfile) -> None:
        before, _ = await self.agents.upsert_profile(profile)
        if profile.presence == Presence.ONLINE:
            await self.drain()
            return
        was_online = before is not None and before.get("presence") == "online"
        if was_online and (profile.presence == Presence.OFFLINE or self.policy().release_on_away):
            await self.release_unanswered(profile.agent_id)

    async def release_unanswered(self, agent_id: str) -> None:
        for doc in await self.routing.held_by(agent_id, unanswered_only=True):
            await self._take_back(doc, agent_id, "agent_offline")

    async def _take_back(self, doc: dict[str, Any], agent_id: str, reason: str) -> None:
        now = self.clock()
        moved = await self.routing.transition(
            doc["_id"],
            ["assigned", "offered"],
            {"state": "new", "agent_id": None, "previous_agent_id": agent_id},
            agent_id=agent_id,
        )
        if moved is None:
            return
        await self.agents.release(agent_id, moved["route"]["channel_kind"], now, finished=False)
        if reason == "acceptance_timeout":
            await self.routing.exclude(doc["_id"], agent_id)
        unassigned = {
            **moved,
            "event_type": "ticket.unassigned",
            "reason": reason,
            "agent_id": None,
            "previous_agent_id": agent_id,
            "seq": f"{moved.get('seq', 0)}-released",
        }
        await self.publisher.publish(topics.ASSIGNMENTS, self._event(unassigned))
        refreshed = await self.routing.get(doc["_id"])
        if refreshed:
            await self._try_assign(refreshed, previous_agent=agent_id)

    async def expire_offers(self) -> None:
        for doc in await self.routing.expired_offers(self.clock()):
            await self._take_back(doc, doc["agent_id"], "acceptance_timeout")

    async def accept(self, ticket_id: str, agent_id: str) -> bool:
        return (
            await self.routing.transition(
                ticket_id,
                ["offered"],
                {"state": "assigned", "offer_expires_at": None},
                agent_id=agent_id,
            )
            is not None
        )

    async def refresh_gauges(self) -> None:
        self.metrics.queue_depth.clear()
        for (priority, skills), n in (await self.routing.queue_depth()).items():
            self.metrics.queue_depth.labels(priority, skills).set(n)
        self.metrics.agents_online.clear()
        self.metrics.occupancy.clear()
        for doc in await self.agents.all():
            state = to_state(doc)
            self.metrics.occupancy.labels(state.agent_id, state.team).set(state.occupancy())
            if state.presence == "online":
                self.metrics.agents_online.labels(state.team).inc()
