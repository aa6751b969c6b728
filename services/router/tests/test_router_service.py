"""The router's application services on in-memory fakes of their ports (routing records,
agents, publisher, clock): fast, no broker and no store. The Mongo adapters and the real
broker are exercised by the integration tests in the root `tests/`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from s8_router.assigner import Assigner
from s8_router.domain.model import AgentState, TicketToRoute
from s8_router.domain.policy import RoutingPolicy
from s8_router.domain.record import (
    ASSIGNED,
    HELD_STATES,
    NEW,
    OFFERED,
    QUEUED,
    SOLVED,
    Changes,
    IllegalTransition,
    RoutingRecord,
    RoutingState,
    check_move,
)
from s8_router.domain.translators import agent_from_profile
from s8_router.metrics import RouterMetrics
from s8_router.presence import AgentDesk
from s8_router.tickets import TicketRouting
from s8_shared.contracts import AgentProfile, Author, MessageInfo, TicketEvent, TicketMessageAdded
from s8_shared.contracts.tickets import TicketMessageAddedPayload
from s8_testing.builders import T0, make_snapshot, make_ticket_created
from s8_testing.fakes import RecordingPublisher

ASSIGNMENTS = "support.assignments.v1"


class InMemoryRoutingRecords:
    """The routing store's contract, in a dict: conditional moves checked by the same state
    machine, a decision's `seq` counted, the newest snapshot kept."""

    def __init__(self) -> None:
        self.records: dict[str, RoutingRecord] = {}
        self.sticky: dict[str, tuple[str, datetime]] = {}

    async def register(self, route: TicketToRoute, customer_id: str, version: int) -> RoutingRecord:
        record = self.records.get(route.ticket_id) or RoutingRecord(
            route.ticket_id, NEW, customer_id, route=None
        )
        if record.version <= version:
            first = record.route.waiting_since if record.route else route.waiting_since
            route = replace(route, excluded_agents=record.excluded, waiting_since=first)
            record = replace(record, route=route, version=version)
        self.records[route.ticket_id] = record
        return record

    async def get(self, ticket_id: str) -> RoutingRecord | None:
        return self.records.get(ticket_id)

    async def transition(
        self,
        ticket_id: str,
        from_states: Any,
        to: RoutingState,
        changes: Changes | None = None,
        *,
        new_assignment: bool = False,
        agent_id: str | None = None,
        before: bool = False,
    ) -> RoutingRecord | None:
        sources = check_move(from_states, to)
        record = self.records.get(ticket_id)
        if record is None or record.state not in sources:
            return None
        if agent_id is not None and record.agent_id != agent_id:
            return None
        moved = record.moved(to, changes or {})
        if new_assignment:
            moved = replace(moved, seq=moved.seq + 1, announce_pending=True)
        self.records[ticket_id] = moved
        return record if before else moved

    async def mark_answered(self, ticket_id: str) -> None:
        self.records[ticket_id] = replace(self.records[ticket_id], answered=True)

    async def require_tier(self, ticket_id: str, tier: str | None) -> None:
        record = self.records[ticket_id]
        self.records[ticket_id] = replace(record, route=replace(record.routed, tier_required=tier))

    async def exclude(self, ticket_id: str, agent_id: str) -> None:
        record = self.records[ticket_id]
        excluded = record.excluded | {agent_id}
        route = replace(record.routed, excluded_agents=excluded)
        self.records[ticket_id] = replace(record, excluded=excluded, route=route)

    async def mark_announced(self, ticket_id: str, seq: int) -> None:
        record = self.records[ticket_id]
        if record.seq == seq:
            self.records[ticket_id] = replace(record, announced_seq=seq, announce_pending=False)

    async def queue_head(self) -> list[RoutingRecord]:
        return sorted(self.in_state(QUEUED), key=lambda r: (r.queued_at or T0, r.ticket_id))

    async def queue_depth(self) -> dict[tuple[str, str], int]:
        depth: dict[tuple[str, str], int] = {}
        for record in self.in_state(QUEUED):
            key = (record.routed.priority, ",".join(sorted(record.routed.required_skills)) or "-")
            depth[key] = depth.get(key, 0) + 1
        return depth

    async def held_by(self, agent_id: str, *, unanswered_only: bool) -> list[RoutingRecord]:
        return [
            r
            for r in self.in_state(*HELD_STATES)
            if r.agent_id == agent_id and not (unanswered_only and r.answered)
        ]

    async def expired_offers(self, now: datetime) -> list[RoutingRecord]:
        return [
            r for r in self.in_state(OFFERED) if r.offer_expires_at and r.offer_expires_at <= now
        ]

    async def remember_agent(self, customer_id: str, agent_id: str, at: datetime) -> None:
        self.sticky[customer_id] = (agent_id, at)

    async def previous_agent(self, customer_id: str) -> tuple[str | None, datetime | None]:
        return self.sticky.get(customer_id, (None, None))

    def in_state(self, *states: RoutingState) -> list[RoutingRecord]:
        return [r for r in self.records.values() if r.state in states]


class InMemoryAgents:
    """Agents and their load; a claim takes a slot only if one is free (as the store's
    conditional update does)."""

    def __init__(self) -> None:
        self.profiles: dict[str, AgentProfile] = {}
        self.active: dict[str, dict[str, int]] = {}

    async def save_profile(self, profile: AgentProfile) -> str | None:
        before = self.profiles.get(profile.agent_id)
        self.profiles[profile.agent_id] = profile
        self.active.setdefault(profile.agent_id, {})
        return None if before is None else before.presence.value

    async def state(self, agent_id: str) -> AgentState | None:
        profile = self.profiles.get(agent_id)
        return None if profile is None else agent_from_profile(profile, self.active[agent_id])

    async def roster(self) -> list[AgentState]:
        return [agent_from_profile(p, self.active[a]) for a, p in self.profiles.items()]

    async def claim(self, agent_id: str, kind: str, now: datetime) -> bool:
        state = await self.state(agent_id)
        if state is None or state.presence != "online" or state.free(kind) <= 0:
            return False
        self.active[agent_id][kind] = self.active[agent_id].get(kind, 0) + 1
        return True

    async def release(self, agent_id: str, kind: str, now: datetime, *, finished: bool) -> None:
        self.active[agent_id][kind] -= 1

    def load(self, agent_id: str) -> int:
        return sum(self.active[agent_id].values())


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Router:
    tickets: TicketRouting
    desk: AgentDesk
    assigner: Assigner
    routing: InMemoryRoutingRecords
    agents: InMemoryAgents
    publisher: RecordingPublisher
    clock: Clock

    def decisions(self) -> list[tuple[str, str | None, str]]:
        """(type, agent, reason) of every decision published."""
        return [(e.type, e.payload.agent_id, e.payload.reason) for e in self.published()]

    def published(self) -> list[Any]:
        return self.publisher.on(ASSIGNMENTS)

    def state_of(self, ticket_id: str) -> RoutingState:
        return self.routing.records[ticket_id].state


def make_router(policy: RoutingPolicy | None = None) -> Router:
    routing, agents, publisher, clock = (
        InMemoryRoutingRecords(),
        InMemoryAgents(),
        RecordingPublisher(),
        Clock(),
    )
    chosen = policy or RoutingPolicy()

    def current() -> RoutingPolicy:
        return chosen

    assigner = Assigner(
        agents=agents,
        routing=routing,
        publisher=publisher,
        policy=current,
        metrics=RouterMetrics(CollectorRegistry()),
        clock=clock,
    )
    ports: dict[str, Any] = {
        "agents": agents,
        "routing": routing,
        "assigner": assigner,
        "policy": current,
        "clock": clock,
    }
    return Router(
        TicketRouting(**ports), AgentDesk(**ports), assigner, routing, agents, publisher, clock
    )


def make_agent(agent_id: str, **overrides: Any) -> AgentProfile:
    fields: dict[str, Any] = {
        "agent_id": agent_id,
        "name": agent_id.title(),
        "tier": "L1",
        "skills": {"billing": 4},
        "languages": ["vi"],
        "capacity": {"chat": 1, "email": 1, "phone": 0, "on_site": 0},
        "presence": "online",
    }
    fields.update(overrides)
    return AgentProfile.model_validate(fields)


def new_ticket(ticket_id: str = "T-1", **snapshot: Any) -> TicketEvent:
    fields: dict[str, Any] = {"customer_id": f"C-{ticket_id}", "required_skills": ["billing"]}
    return make_ticket_created(ticket_id=ticket_id, **{**fields, **snapshot})


async def test_a_new_ticket_is_assigned_to_an_eligible_agent_and_takes_their_slot() -> None:
    router = make_router()
    await router.agents.save_profile(make_agent("an", skills={"returns": 4}))
    await router.agents.save_profile(make_agent("binh"))
    await router.tickets.on_ticket_event(new_ticket())
    assert router.decisions() == [("ticket.assigned", "binh", "least_loaded")]
    [event] = router.published()
    assert event.payload.rejected == {"an": "missing_skill:billing"}
    assert router.state_of("T-1") is ASSIGNED
    assert (router.agents.load("binh"), router.agents.load("an")) == (1, 0)
    record = router.routing.records["T-1"]
    assert (record.announce_pending, record.announced_seq) == (False, 1)


async def test_a_ticket_nobody_can_take_is_queued_with_each_agents_reason() -> None:
    router = make_router()
    await router.agents.save_profile(make_agent("an", presence="offline"))
    await router.tickets.on_ticket_event(new_ticket())
    assert router.decisions() == [("ticket.queued", None, "no_eligible_agent")]
    assert router.published()[0].payload.rejected == {"an": "offline"}
    assert router.state_of("T-1") is QUEUED
    assert router.routing.records["T-1"].queued_at == T0


async def test_a_queued_ticket_is_placed_when_an_agent_comes_online() -> None:
    router = make_router()
    await router.tickets.on_ticket_event(new_ticket())
    router.clock.now = T0 + timedelta(minutes=5)
    await router.desk.on_agent_profile(make_agent("an"))
    assert [d[:2] for d in router.decisions()] == [
        ("ticket.queued", None),
        ("ticket.assigned", "an"),
    ]
    assert router.state_of("T-1") is ASSIGNED


async def test_routing_and_escalation_queue_the_same_way() -> None:
    router = make_router()
    await router.agents.save_profile(make_agent("an", tier="L1"))
    await router.tickets.on_ticket_event(new_ticket("T-1"))  # assigned to an (L1)
    await router.tickets.on_ticket_event(new_ticket("T-2"))  # an is full: queued
    await router.tickets.escalate("T-1", "sla_breach")  # needs L2 now: nobody, so queued
    [_, queued, escalated] = router.published()
    assert (queued.type, escalated.type) == ("ticket.queued", "ticket.escalated")
    assert (escalated.payload.agent_id, escalated.payload.previous_agent_id) == (None, "an")
    assert (escalated.payload.reason, escalated.payload.tier) == ("sla_breach", "L2")
    for ticket_id in ("T-1", "T-2"):
        record = router.routing.records[ticket_id]
        assert (record.state, record.queued_at, record.eligible) == (QUEUED, T0, ())
    # an's freed slot goes to the ticket still at L1; the escalated one waits for an L2.
    assert router.state_of("T-2") is QUEUED
    await router.assigner.drain()
    assert router.decisions()[-1][:2] == ("ticket.assigned", "an")
    assert (router.state_of("T-1"), router.state_of("T-2")) == (QUEUED, ASSIGNED)


async def test_a_redelivered_ticket_event_has_no_second_effect() -> None:
    router = make_router()
    await router.agents.save_profile(make_agent("an", capacity={"email": 2}))
    event = new_ticket()
    await router.tickets.on_ticket_event(event)
    await router.tickets.on_ticket_event(event)
    assert router.decisions() == [("ticket.assigned", "an", "least_loaded")]
    assert router.agents.load("an") == 1
    assert router.routing.records["T-1"].seq == 1


async def test_a_redelivered_event_of_a_queued_ticket_queues_it_once() -> None:
    router = make_router()
    event = new_ticket()
    await router.tickets.on_ticket_event(event)
    await router.tickets.on_ticket_event(event)
    assert router.decisions() == [("ticket.queued", None, "no_eligible_agent")]


async def test_a_decision_stored_but_not_published_is_published_on_redelivery_with_its_id() -> None:
    router = make_router()
    await router.agents.save_profile(make_agent("an"))
    router.publisher.fail_next = ConnectionError("broker down")
    event = new_ticket()
    with pytest.raises(ConnectionError):
        await router.tickets.on_ticket_event(event)
    assert router.routing.records["T-1"].announce_pending
    await router.tickets.on_ticket_event(event)
    await router.tickets.on_ticket_event(event)
    [published] = router.published()
    assert published.type == "ticket.assigned"
    assert router.agents.load("an") == 1
    record = router.routing.records["T-1"]
    assert (record.announce_pending, record.announced_seq) == (False, 1)
    # The same decision always gets the same event id (downstream deduplicates on it).
    assert router.assigner.event(record, record.seq).event_id == published.event_id


async def test_the_state_machine_refuses_an_illegal_move_and_nothing_is_written() -> None:
    router = make_router()
    await router.tickets.on_ticket_event(new_ticket())
    before = router.routing.records["T-1"]
    with pytest.raises(IllegalTransition, match="from solved to queued"):
        await router.routing.transition("T-1", [SOLVED, QUEUED], QUEUED)
    assert router.routing.records["T-1"] == before
    # Accepting is only from an offer: a queued ticket is not accepted.
    assert not await router.desk.accept("T-1", "an")
    assert router.state_of("T-1") is QUEUED


async def test_solving_a_ticket_frees_the_slot_for_the_next_in_line() -> None:
    router = make_router()
    await router.agents.save_profile(make_agent("an"))
    await router.tickets.on_ticket_event(new_ticket("T-1"))
    await router.tickets.on_ticket_event(new_ticket("T-2"))
    solved = make_ticket_created(ticket_id="T-1", customer_id="C-T-1", status="solved", version=2)
    await router.tickets.on_ticket_event(solved)
    assert [d[:2] for d in router.decisions()] == [
        ("ticket.assigned", "an"),
        ("ticket.queued", None),
        ("ticket.assigned", "an"),
    ]
    assert (router.state_of("T-1"), router.state_of("T-2")) == (SOLVED, ASSIGNED)
    assert router.agents.load("an") == 1


async def test_an_agent_going_offline_hands_back_only_what_they_have_not_answered() -> None:
    router = make_router()
    await router.agents.save_profile(make_agent("an", capacity={"email": 2}))
    await router.tickets.on_ticket_event(new_ticket("T-1"))
    await router.tickets.on_ticket_event(new_ticket("T-2"))
    reply = TicketMessageAdded(
        producer="s8-test",
        payload=TicketMessageAddedPayload(
            ticket_id="T-1",
            ticket=make_snapshot(ticket_id="T-1", customer_id="C-T-1", status="open", version=2),
            message=MessageInfo(
                message_id="m2", author=Author.AGENT, channel="email", text="Hi", sent_at=T0
            ),
        ),
    )
    await router.tickets.on_ticket_event(reply)
    assert router.routing.records["T-1"].answered
    await router.desk.on_agent_profile(make_agent("an", presence="offline"))
    assert [d for d in router.decisions() if d[0] != "ticket.assigned"] == [
        ("ticket.unassigned", None, "agent_offline"),
        ("ticket.queued", None, "no_eligible_agent"),
    ]
    assert (router.state_of("T-1"), router.state_of("T-2")) == (ASSIGNED, QUEUED)
    assert router.routing.records["T-2"].previous_agent_id == "an"


async def test_an_offer_not_accepted_in_time_moves_to_the_next_agent_and_never_back() -> None:
    router = make_router(RoutingPolicy(acceptance_timeout_seconds=30))
    await router.agents.save_profile(make_agent("an"))
    await router.agents.save_profile(make_agent("binh", presence="away"))
    await router.tickets.on_ticket_event(new_ticket())
    assert router.state_of("T-1") is OFFERED
    await router.agents.save_profile(make_agent("binh"))
    router.clock.now = T0 + timedelta(seconds=31)
    await router.desk.expire_offers()
    assert router.decisions()[1:] == [
        ("ticket.unassigned", None, "acceptance_timeout"),
        ("ticket.reassigned", "binh", "least_loaded"),
    ]
    assert not await router.desk.accept("T-1", "an")
    assert await router.desk.accept("T-1", "binh")
    assert router.state_of("T-1") is ASSIGNED
    assert router.routing.records["T-1"].excluded == frozenset({"an"})


async def test_a_declined_offer_moves_on_at_once_and_never_comes_back_to_that_agent() -> None:
    router = make_router(RoutingPolicy(acceptance_timeout_seconds=30))
    await router.agents.save_profile(make_agent("an"))
    await router.agents.save_profile(make_agent("binh"))
    await router.tickets.on_ticket_event(new_ticket())
    offered_to = router.routing.records["T-1"].agent_id
    other = "binh" if offered_to == "an" else "an"
    assert offered_to is not None
    assert not await router.desk.decline("T-1", other)  # not offered to them
    assert await router.desk.decline("T-1", offered_to)
    assert router.decisions()[1:] == [
        ("ticket.unassigned", None, "declined"),
        ("ticket.reassigned", other, "least_loaded"),
    ]
    assert router.routing.records["T-1"].excluded == frozenset({offered_to})
    assert router.agents.load(offered_to) == 0
    assert not await router.desk.decline("T-1", offered_to)  # declined once only
    assert await router.desk.accept("T-1", other)
    assert not await router.desk.decline("T-1", other)  # accepted: no longer an offer
