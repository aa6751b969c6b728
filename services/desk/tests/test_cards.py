"""A card's SLA standing and holder, as the views sort and show them."""

from __future__ import annotations

from datetime import timedelta

from s8_desk.domain.cards import holder_fields, sla_fields, sla_order, standing
from s8_shared.contracts import AssignmentPayload, Priority
from s8_shared.contracts.desk import DeskClock, SlaStanding
from s8_testing.builders import T0


def clock(clock_id: str, state: str, due_minutes: int | None) -> DeskClock:
    due = T0 + timedelta(minutes=due_minutes) if due_minutes is not None else None
    return DeskClock.model_validate(
        {"clock_id": clock_id, "target": "first_response", "state": state, "due_at": due,
         "remaining_business_seconds": 60.0, "updated_at": T0}
    )  # fmt: skip


def decision(agent: str | None, **more: object) -> AssignmentPayload:
    return AssignmentPayload.model_validate(
        {"ticket_id": "T-1", "agent_id": agent, "channel_kind": "email",
         "priority": Priority.NORMAL, "reason": "least_loaded", **more}
    )  # fmt: skip


def test_the_worst_open_clock_decides_and_the_soonest_running_one_gives_the_due_time() -> None:
    clocks = [clock("a", "running", 30), clock("b", "warned", 90), clock("c", "met", 1)]
    assert standing(clocks) == (SlaStanding.WARNED, T0 + timedelta(minutes=30))
    paused = [clock("a", "paused", 5)]
    assert standing(paused) == (SlaStanding.PAUSED, None)  # a paused clock is not due
    assert standing([clock("a", "cancelled", 5)]) == (SlaStanding.NONE, None)


def test_views_order_breached_before_warned_before_running_then_by_time_left() -> None:
    orders = [
        sla_order(SlaStanding.RUNNING, T0 + timedelta(minutes=5)),
        sla_order(SlaStanding.NONE, None),
        sla_order(SlaStanding.BREACHED, T0 + timedelta(minutes=50)),
        sla_order(SlaStanding.RUNNING, T0 + timedelta(minutes=1)),
        sla_order(SlaStanding.WARNED, T0 + timedelta(hours=9)),
        sla_order(SlaStanding.PAUSED, None),
    ]
    assert [o.split("|")[0] for o in sorted(orders)] == ["0", "1", "2", "2", "3", "4"]
    assert sorted(orders)[2] == sla_order(SlaStanding.RUNNING, T0 + timedelta(minutes=1))


def test_sla_fields_follow_the_clocks() -> None:
    fields = sla_fields({"a": clock("a", "breached", -5)})
    assert (fields["sla"], fields["sla_due_at"]) == ("breached", T0 - timedelta(minutes=5))


def test_a_queued_or_released_ticket_has_no_holder_and_an_offer_keeps_its_deadline() -> None:
    deadline = T0 + timedelta(seconds=60)
    assert holder_fields("ticket.assigned", decision("lan", offer_expires_at=deadline)) == {
        "agent_id": "lan", "queued": False, "offer_expires_at": deadline
    }  # fmt: skip
    assert holder_fields("ticket.queued", decision(None))["queued"] is True
    released = holder_fields("ticket.unassigned", decision(None, previous_agent_id="lan"))
    assert released == {"agent_id": None, "queued": False, "offer_expires_at": None}
