"""The routing record's state machine and its stored form (records stored before the
state machine existed must still load)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from s8_router.adapters.routing_store import _fields, record_of
from s8_router.domain.model import TicketToRoute
from s8_router.domain.record import (
    ALLOWED,
    ASSIGNED,
    CLOSED,
    NEW,
    OFFERED,
    OPEN_STATES,
    QUEUED,
    SOLVED,
    DecisionKind,
    IllegalTransition,
    RoutingRecord,
    RoutingState,
    advance,
    check_move,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
ROUTE = TicketToRoute("T-1", "email", "normal", ("billing",), "vi", None, None, "standard", T0)

LEGAL = {
    (NEW, NEW),  # routed again (a transfer or an escalation of a ticket still waiting)
    (NEW, QUEUED),
    (NEW, OFFERED),
    (NEW, ASSIGNED),
    (QUEUED, NEW),
    (QUEUED, OFFERED),
    (QUEUED, ASSIGNED),
    (OFFERED, NEW),
    (OFFERED, ASSIGNED),
    (ASSIGNED, NEW),
    (SOLVED, NEW),  # reopened
} | {(state, end) for state in OPEN_STATES for end in (SOLVED, CLOSED)}


@pytest.mark.parametrize("current", list(RoutingState))
@pytest.mark.parametrize("to", list(RoutingState))
def test_only_the_moves_in_the_table_are_allowed(current: RoutingState, to: RoutingState) -> None:
    if (current, to) in LEGAL:
        assert advance(current, to) is to
    else:
        with pytest.raises(IllegalTransition, match=f"from {current.value} to {to.value}"):
            advance(current, to)


def test_the_table_is_the_one_tested() -> None:
    assert {(a, b) for a, ends in ALLOWED.items() for b in ends} == LEGAL


def test_a_closed_record_never_moves_again() -> None:
    assert ALLOWED[CLOSED] == frozenset()
    record = RoutingRecord("T-1", CLOSED, "C-1", ROUTE)
    with pytest.raises(IllegalTransition):
        record.moved(NEW, {"agent_id": None})


def test_a_conditional_move_is_refused_if_any_source_state_may_not_move() -> None:
    assert check_move([NEW, QUEUED], ASSIGNED) == (NEW, QUEUED)
    with pytest.raises(IllegalTransition, match="from assigned to queued"):
        check_move([NEW, ASSIGNED], QUEUED)


def test_moving_returns_a_new_record_with_the_changes() -> None:
    record = RoutingRecord("T-1", NEW, "C-1", ROUTE)
    queued = record.moved(QUEUED, {"queued_at": T0, "decision": DecisionKind.QUEUED})
    assert (queued.state, queued.queued_at, queued.decision) == (QUEUED, T0, DecisionKind.QUEUED)
    assert record.state is NEW


def test_a_record_stored_before_the_state_machine_loads() -> None:
    doc = {
        "_id": "T-1",
        "state": "assigned",
        "agent_id": "an",
        "seq": 2,
        "answered": False,
        "excluded": ["binh"],
        "customer_id": "C-1",
        "version": 3,
        "route": {
            "ticket_id": "T-1",
            "channel_kind": "email",
            "priority": "normal",
            "required_skills": ["billing"],
            "language": "vi",
            "tier_required": None,
            "region": None,
            "customer_tier": "standard",
            "waiting_since": T0,
            "previous_agent_id": None,
            "previous_agent_at": None,
        },
        "event_type": "ticket.reassigned",
        "reason": "transfer",
        "eligible": ["an"],
        "rejected": {"binh": "excluded"},
        "announce_pending": True,
    }
    record = record_of(doc)
    assert (record.state, record.decision, record.seq) == (ASSIGNED, DecisionKind.REASSIGNED, 2)
    assert record.routed.excluded_agents == frozenset({"binh"})
    assert record.routed.required_skills == ("billing",)
    assert (record.eligible, record.rejected) == (("an",), {"binh": "excluded"})
    assert record.announced_seq is None


def test_a_move_is_stored_under_the_field_names_and_values_records_always_had() -> None:
    fields = _fields(
        QUEUED, {"decision": DecisionKind.QUEUED, "eligible": (), "rejected": {"an": "offline"}}
    )
    assert fields == {
        "state": "queued",
        "event_type": "ticket.queued",
        "eligible": [],
        "rejected": {"an": "offline"},
    }
    assert type(fields["state"]) is str  # a plain string, as before, not the enum
    assert type(fields["event_type"]) is str


@pytest.mark.parametrize(
    ("state", "agent_id", "holds"),
    [
        (ASSIGNED, "lan", True),
        (OFFERED, "lan", True),
        (QUEUED, None, True),
        (SOLVED, None, False),  # solved since: the agent was released
        (NEW, None, False),  # transferred or escalated since: a new decision comes
        (CLOSED, None, False),
    ],
)
def test_a_stored_decision_holds_only_while_the_ticket_is_where_it_left_it(
    state: RoutingState, agent_id: str | None, holds: bool
) -> None:
    record = RoutingRecord("T-1", state, "C-1", ROUTE, agent_id=agent_id)
    assert record.decision_holds() is holds
