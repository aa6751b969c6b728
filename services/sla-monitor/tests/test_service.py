"""The SLA monitor's application service on in-memory fakes of its ports (clock store,
ticket snapshots, publisher, clock): fast, no broker, no store. The real ones are in
tests/test_sla_flows.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from s8_shared.business_time.calendar import DEFAULT_CALENDARS_PATH, CalendarsDocument
from s8_shared.contracts import (
    Author,
    Event,
    MessageInfo,
    TicketMessageAdded,
    TicketSnapshot,
    TicketStatus,
    TicketStatusChanged,
)
from s8_shared.contracts.tickets import TicketMessageAddedPayload, TicketStatusChangedPayload
from s8_shared.data_files import load_model
from s8_shared.outbox import OutboxItem
from s8_sla_monitor.domain.clock import Clock
from s8_sla_monitor.domain.policies import PolicySet
from s8_sla_monitor.metrics import SlaMetrics
from s8_sla_monitor.ports import ClockSave
from s8_sla_monitor.service import SlaService
from s8_testing.builders import T0, make_snapshot, make_ticket_created
from s8_testing.fakes import RecordingPublisher

SLA = "support.sla.v1"
CALENDARS = load_model(DEFAULT_CALENDARS_PATH, CalendarsDocument).calendars_by_id
POLICIES = PolicySet.model_validate(
    {
        "policies": [
            {
                "policy_id": "std",
                "targets": {
                    "first_response": {"seconds": 1000, "calendar": "24x7"},
                    "resolution": {"seconds": 10000, "calendar": "24x7"},
                },
            }
        ]
    }
)


@dataclass
class Stored:
    clock: Clock
    rev: int
    next_fire_at: datetime | None
    outbox: list[OutboxItem] = field(default_factory=list)
    lease_until: datetime | None = None


class FakeOutbox:
    def __init__(self, docs: dict[str, Stored]) -> None:
        self.docs = docs

    async def items(self, doc_id: str) -> list[OutboxItem]:
        return list(self.docs[doc_id].outbox)

    async def remove(self, doc_id: str, event_ids: Sequence[str]) -> None:
        doc = self.docs[doc_id]
        doc.outbox = [i for i in doc.outbox if i.event_id not in event_ids]

    async def remove_all(self, published: Mapping[str, Sequence[str]]) -> None:
        for doc_id, event_ids in published.items():
            await self.remove(doc_id, event_ids)

    async def pending(self, limit: int = 100) -> list[str]:
        return [doc_id for doc_id, doc in self.docs.items() if doc.outbox][:limit]


class FakeClockStore:
    """Clocks in a dict, with the store's compare-and-set on a revision and its leases."""

    def __init__(self) -> None:
        self.docs: dict[str, Stored] = {}
        self.outbox = FakeOutbox(self.docs)

    async def for_ticket(self, ticket_id: str) -> list[tuple[Clock, int, list[OutboxItem]]]:
        return [
            (d.clock, d.rev, list(d.outbox))
            for d in self.docs.values()
            if d.clock.ticket_id == ticket_id
        ]

    async def save(
        self,
        clock: Clock,
        next_fire_at: datetime | None,
        expected_rev: int | None,
        events: Sequence[OutboxItem] = (),
    ) -> bool:
        doc = self.docs.get(clock.clock_id)
        if expected_rev is None:
            if doc is not None:
                return False
            self.docs[clock.clock_id] = Stored(clock, 1, next_fire_at, list(events))
            return True
        if doc is None or doc.rev != expected_rev:
            return False
        outbox = [*doc.outbox, *events]
        self.docs[clock.clock_id] = Stored(clock, expected_rev + 1, next_fire_at, outbox)
        return True

    async def save_all(self, saves: Sequence[ClockSave]) -> bool:
        for s in saves:
            if not await self.save(s.clock, s.next_fire_at, s.expected_rev, s.events):
                return False
        return True

    async def claim_due(
        self, now: datetime, owner: str, lease: timedelta
    ) -> tuple[Clock, int, datetime] | None:
        due = sorted(
            (d.next_fire_at, clock_id)
            for clock_id, d in self.docs.items()
            if d.next_fire_at is not None
            and d.next_fire_at <= now
            and (d.lease_until is None or d.lease_until <= now)
        )
        if not due:
            return None
        at, clock_id = due[0]
        doc = self.docs[clock_id]
        doc.lease_until, doc.rev = now + lease, doc.rev + 1
        return doc.clock, doc.rev, at

    async def tickets_with_open_clocks(self) -> list[str]:
        return sorted({d.clock.ticket_id for d in self.docs.values() if d.clock.active})

    async def open_by_target(self) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for d in self.docs.values():
            if d.clock.active:
                key = (d.clock.target, d.clock.state)
                counts[key] = counts.get(key, 0) + 1
        return counts

    def states(self) -> dict[str, str]:
        return {clock_id: d.clock.state for clock_id, d in sorted(self.docs.items())}


class FakeTicketSnapshots:
    def __init__(self) -> None:
        self.latest: dict[str, TicketSnapshot] = {}

    def queue(self, snapshot: TicketSnapshot, event_type: str) -> None:
        current = self.latest.get(snapshot.ticket_id)
        if current is None or current.version < snapshot.version:
            self.latest[snapshot.ticket_id] = snapshot

    async def get(self, ticket_id: str) -> TicketSnapshot | None:
        return self.latest.get(ticket_id)


class World:
    """The service wired to fakes, with a clock the test moves."""

    def __init__(self) -> None:
        self.now = T0
        self.policies = POLICIES
        self.clocks = FakeClockStore()
        self.publisher = RecordingPublisher()
        self.sla = SlaService(
            clocks=self.clocks,
            tickets=FakeTicketSnapshots(),
            publisher=self.publisher,
            policies=lambda: self.policies,
            calendars=lambda: CALENDARS,
            metrics=SlaMetrics(CollectorRegistry()),
            clock=lambda: self.now,
        )

    def published(self) -> list[tuple[str, str]]:
        return [(e.type, e.payload.clock_id) for e in self.publisher.on(SLA)]


FR, RES = "T-1/first_response/1", "T-1/resolution/1"


def status_changed(frm: str, to: str, seconds: float, **snapshot: Any) -> Event[Any]:
    at = T0 + timedelta(seconds=seconds)
    snap = make_snapshot(status=to, version=2, updated_at=at, **snapshot)
    return TicketStatusChanged(
        producer="s8-test",
        occurred_at=at,
        payload=TicketStatusChangedPayload(
            ticket_id=snap.ticket_id,
            ticket=snap,
            from_status=TicketStatus(frm),
            to_status=TicketStatus(to),
        ),
    )


def agent_replied(seconds: float) -> Event[Any]:
    at = T0 + timedelta(seconds=seconds)
    snap = make_snapshot(status="open", version=2, agent_replies=1, first_agent_reply_at=at)
    message = MessageInfo(
        message_id="m2", author=Author.AGENT, channel=snap.channel, text="Đã kiểm tra", sent_at=at
    )
    return TicketMessageAdded(
        producer="s8-test",
        occurred_at=at,
        payload=TicketMessageAddedPayload(ticket_id="T-1", ticket=snap, message=message),
    )


@pytest.fixture
def world() -> World:
    return World()


async def test_a_created_ticket_starts_its_clocks_and_announces_them(world: World) -> None:
    await world.sla.on_ticket_event(make_ticket_created())
    assert world.published() == [("sla.clock_started", FR), ("sla.clock_started", RES)]
    assert world.clocks.states() == {FR: "running", RES: "running"}
    assert not await world.clocks.outbox.pending()  # published, so gone from the outboxes


async def test_a_redelivered_created_event_announces_nothing_new(world: World) -> None:
    created = make_ticket_created()
    await world.sla.on_ticket_event(created)
    revisions = {clock_id: d.rev for clock_id, d in world.clocks.docs.items()}
    await world.sla.on_ticket_event(created)
    assert len(world.published()) == 2
    assert {clock_id: d.rev for clock_id, d in world.clocks.docs.items()} == revisions


async def test_solved_meets_resolution_and_cancels_the_first_response(world: World) -> None:
    await world.sla.on_ticket_event(make_ticket_created())
    await world.sla.on_ticket_event(status_changed("new", "solved", 300))
    assert world.published()[2:] == [("sla.met", RES), ("sla.cancelled", FR)]
    assert world.clocks.states() == {FR: "cancelled", RES: "met"}
    assert await world.clocks.tickets_with_open_clocks() == []
    met = world.publisher.on(SLA)[2]
    assert (met.occurred_at, met.payload.elapsed_business_seconds) == (
        T0 + timedelta(seconds=300),
        300,
    )


async def test_an_agent_reply_meets_the_first_response(world: World) -> None:
    await world.sla.on_ticket_event(make_ticket_created())
    await world.sla.on_ticket_event(agent_replied(120))
    assert world.published()[2:] == [("sla.met", FR)]
    assert world.clocks.states() == {FR: "met", RES: "running"}


async def test_a_deflected_ticket_starts_clocks_only_when_it_comes_to_a_human(
    world: World,
) -> None:
    await world.sla.on_ticket_event(make_ticket_created(deflected=True, status="pending"))
    assert world.published() == []
    assert world.clocks.docs == {}
    await world.sla.on_ticket_event(status_changed("pending", "open", 600, deflected=True))
    assert world.published() == [("sla.clock_started", FR), ("sla.clock_started", RES)]
    assert world.clocks.docs[FR].clock.started_at == T0 + timedelta(seconds=600)


async def test_the_scheduler_fires_warning_and_breach_once_each(world: World) -> None:
    await world.sla.on_ticket_event(make_ticket_created())
    world.now = T0 + timedelta(seconds=799)
    assert await world.sla.fire_due_clocks() == 0
    world.now = T0 + timedelta(seconds=800)  # 80 % of 1000 s
    assert await world.sla.fire_due_clocks() == 1
    world.now = T0 + timedelta(seconds=1000)
    assert await world.sla.fire_due_clocks() == 1
    assert await world.sla.fire_due_clocks() == 0  # fired once, even when asked again
    assert world.published()[2:] == [("sla.warning", FR), ("sla.breached", FR)]
    assert world.clocks.states()[FR] == "breached_running"


async def test_an_event_the_broker_refused_stays_in_the_outbox_until_swept(
    world: World,
) -> None:
    world.publisher.fail_next = ConnectionError("broker down")
    with pytest.raises(ConnectionError):
        await world.sla.on_ticket_event(make_ticket_created())
    assert world.published() == []
    assert sorted(await world.clocks.outbox.pending()) == [FR, RES]
    assert await world.sla.sweep_outboxes() == 2
    assert sorted(world.published()) == [("sla.clock_started", FR), ("sla.clock_started", RES)]
    assert await world.clocks.outbox.pending() == []
    assert await world.sla.sweep_outboxes() == 0


async def test_new_policies_move_open_clocks_and_keep_the_elapsed_time(world: World) -> None:
    await world.sla.on_ticket_event(make_ticket_created())
    tighter = POLICIES.model_dump(mode="json")
    tighter["policies"][0]["targets"]["first_response"]["seconds"] = 500
    world.policies = PolicySet.model_validate(tighter)
    world.now = T0 + timedelta(seconds=100)
    assert await world.sla.recompute_open() == 1
    fr = world.clocks.docs[FR]
    assert (fr.clock.target_seconds, fr.clock.elapsed_before) == (500, 100)
    assert fr.next_fire_at == T0 + timedelta(seconds=400)  # the warning at 80 %
    assert len(world.published()) == 2  # a changed promise is no new SLA event
