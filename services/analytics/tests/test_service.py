"""Analytics' application service on in-memory fakes of its ports (facts, ticket snapshots):
fast, no broker, no store. The real ones are in tests/test_analytics_kpis.py."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from s8_analytics.metrics import TicketMetrics
from s8_analytics.ports import SlaOutcome
from s8_analytics.service import AnalyticsService
from s8_shared.contracts import (
    AssignmentPayload,
    Priority,
    SlaPayload,
    TicketSnapshot,
    TicketStatus,
    TicketStatusChanged,
)
from s8_shared.contracts.assignments import TicketAssigned, TicketQueued, TicketReassigned
from s8_shared.contracts.sla import SlaBreached, SlaCancelled, SlaClockStarted, SlaMet
from s8_shared.contracts.tickets import (
    BotConversationHandled,
    BotConversationPayload,
    TicketStatusChangedPayload,
)
from s8_testing.builders import T0, make_snapshot, make_ticket_created


class FakeFacts:
    """Records what the service wrote; `once` keeps its flags like the store does."""

    def __init__(self) -> None:
        self.flags: set[tuple[str, str]] = set()
        self.calls: list[tuple[str, Any]] = []

    async def once(self, ticket_id: str, flag: str) -> bool:
        first = (ticket_id, flag) not in self.flags
        self.flags.add((ticket_id, flag))
        return first

    async def bot_handled(self, conversation_id: str, at: datetime) -> None:
        self.calls.append(("bot_handled", (conversation_id, at)))

    async def status_change(self, ticket_id: str, to_status: str, at: datetime) -> None:
        self.calls.append(("status_change", (ticket_id, to_status, at)))

    async def queued(self, ticket_id: str, at: datetime) -> None:
        self.calls.append(("queued", (ticket_id, at)))

    async def assignment(
        self, ticket_id: str, agent_id: str | None, at: datetime, *, moved: bool
    ) -> None:
        self.calls.append(("assignment", (ticket_id, agent_id, moved)))

    async def sla_event(
        self,
        clock_id: str,
        ticket_id: str,
        target: str,
        at: datetime,
        *,
        outcome: SlaOutcome | None,
    ) -> None:
        self.calls.append(("sla_event", (clock_id, outcome)))

    async def survey_sent(self, survey_id: str, fields: dict[str, Any], at: datetime) -> None:
        self.calls.append(("survey_sent", (survey_id, fields)))

    async def survey_answer(self, survey_id: str, fields: dict[str, Any], revision: int) -> None:
        self.calls.append(("survey_answer", (survey_id, fields, revision)))

    async def problem(self, problem_id: str, update_seq: int, fields: dict[str, Any]) -> None:
        self.calls.append(("problem", (problem_id, update_seq, fields)))

    async def proactive_contact(self, outbound_id: str, fields: dict[str, Any]) -> None:
        self.calls.append(("proactive_contact", (outbound_id, fields)))

    def of(self, name: str) -> list[Any]:
        return [args for called, args in self.calls if called == name]


class FakeTicketSnapshots:
    def __init__(self) -> None:
        self.applied: list[tuple[str, int, str]] = []

    def queue(self, snapshot: TicketSnapshot, event_type: str) -> None:
        self.applied.append((snapshot.ticket_id, snapshot.version, event_type))


class World:
    def __init__(self) -> None:
        self.facts = FakeFacts()
        self.tickets = FakeTicketSnapshots()
        self.registry = CollectorRegistry()
        self.metrics = TicketMetrics(self.registry)
        self.service = AnalyticsService(
            facts=self.facts, tickets=self.tickets, metrics=self.metrics
        )

    def created(self, channel: str = "email", priority: str = "normal") -> float:
        labels = {"channel": channel, "priority": priority}
        return self.registry.get_sample_value("s8_kpi_tickets_created_total", labels) or 0.0

    def first_responses(self) -> float:
        labels = {"channel": "email", "priority": "normal"}
        name = "s8_kpi_first_response_seconds_count"
        return self.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def world() -> World:
    return World()


def solved(seconds: float) -> TicketStatusChanged:
    at = T0 + timedelta(seconds=seconds)
    snap = make_snapshot(status="solved", version=3, updated_at=at, first_agent_reply_at=at)
    return TicketStatusChanged(
        producer="s8-test",
        occurred_at=at,
        payload=TicketStatusChangedPayload(
            ticket_id="T-1",
            ticket=snap,
            from_status=TicketStatus.OPEN,
            to_status=TicketStatus.SOLVED,
        ),
    )


async def test_a_ticket_is_counted_once_even_when_its_event_comes_again(world: World) -> None:
    created = make_ticket_created()
    await world.service.on_ticket(created)
    await world.service.on_ticket(created)  # redelivered
    await world.service.on_ticket(created.model_copy(update={"event_id": uuid.uuid4()}))
    await world.service.on_ticket(solved(600))  # a later event of the same ticket
    assert world.created() == 1
    assert world.tickets.applied[0] == ("T-1", 1, "ticket.created")
    assert world.tickets.applied[-1] == ("T-1", 3, "ticket.status_changed")


async def test_the_first_reply_is_timed_once(world: World) -> None:
    await world.service.on_ticket(make_ticket_created())
    assert world.first_responses() == 0
    await world.service.on_ticket(solved(600))
    await world.service.on_ticket(solved(600))
    assert world.first_responses() == 1


async def test_a_status_change_is_a_fact_for_handling_time(world: World) -> None:
    await world.service.on_ticket(solved(600))
    assert world.facts.of("status_change") == [("T-1", "solved", T0 + timedelta(seconds=600))]


async def test_a_bot_conversation_is_no_ticket(world: World) -> None:
    bot = BotConversationHandled(
        producer="s8-test",
        occurred_at=T0,
        payload=BotConversationPayload(conversation_id="B-1", customer_id="C-1", handed_off=False),
    )
    await world.service.on_ticket(bot)
    assert world.facts.of("bot_handled") == [("B-1", T0)]
    assert world.tickets.applied == []
    assert world.created() == 0


def assignment(cls: Any, agent_id: str | None) -> Any:
    payload = AssignmentPayload(
        ticket_id="T-1",
        agent_id=agent_id,
        channel_kind="email",
        priority=Priority.NORMAL,
        reason="least_loaded",
    )
    return cls(producer="s8-router", occurred_at=T0, payload=payload)


async def test_only_reassignments_and_escalations_count_as_moves(world: World) -> None:
    await world.service.on_assignment(assignment(TicketQueued, None))
    await world.service.on_assignment(assignment(TicketAssigned, "A-1"))
    await world.service.on_assignment(assignment(TicketReassigned, "A-2"))
    assert world.facts.of("queued") == [("T-1", T0)]
    assert world.facts.of("assignment") == [  # queued: its own fact, nobody holds it
        ("T-1", "A-1", False),
        ("T-1", "A-2", True),
    ]


@pytest.mark.parametrize(
    ("cls", "outcome"),
    [
        (SlaClockStarted, None),
        (SlaBreached, "breached"),
        (SlaMet, "met"),
        (SlaCancelled, "cancelled"),
    ],
)
async def test_each_sla_event_records_its_outcome(
    world: World, cls: Any, outcome: SlaOutcome | None
) -> None:
    payload = SlaPayload(
        ticket_id="T-1",
        policy_id="std",
        target="resolution",
        clock_id="T-1/resolution/1",
        priority="normal",
        channel="email",
        calendar_id="24x7",
        target_seconds=3600,
        due_at=T0 + timedelta(hours=1),
        elapsed_business_seconds=0,
        elapsed_calendar_seconds=0,
        remaining_business_seconds=3600,
    )
    await world.service.on_sla(cls(producer="s8-sla-monitor", occurred_at=T0, payload=payload))
    assert world.facts.of("sla_event") == [("T-1/resolution/1", outcome)]
