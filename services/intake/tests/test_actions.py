from datetime import timedelta
from typing import Any

import pytest

from s8_intake.domain.actions import apply_action
from s8_intake.domain.status import TransitionRefused
from s8_intake.domain.ticket import TicketState, deflect
from s8_shared.contracts import ACTION_ADAPTER, Priority, TicketAction, TicketStatus
from s8_testing.builders import T0
from s8_testing.intake_builders import make_new_ticket

LATER = T0 + timedelta(minutes=30)


def action(kind: str, **fields: Any) -> TicketAction:
    return ACTION_ADAPTER.validate_python(
        {
            "kind": kind,
            "action_id": f"a-{kind}",
            "ticket_id": "T-1",
            "actor_id": "agent-7",
            **fields,
        }
    )


def with_status(status: TicketStatus) -> TicketState:
    state = make_new_ticket().state
    return TicketState(
        **{**state.__dict__, "snapshot": state.snapshot.model_copy(update={"status": status})}
    )


def test_an_agent_reply_opens_a_new_ticket_counts_the_reply_and_goes_to_the_customer() -> None:
    change = apply_action(
        make_new_ticket().state, action("reply", text="Chào chị Lan, em kiểm tra ngay ạ."), LATER
    )
    snap = change.state.snapshot
    assert (snap.status, snap.agent_replies, snap.first_agent_reply_at) == (
        TicketStatus.OPEN,
        1,
        LATER,
    )
    types = [e.type for e in change.events]
    assert types == ["ticket.message_added", "ticket.status_changed", "outbound.message_requested"]
    outbound = change.events[-1].payload
    assert (outbound.kind, outbound.to, outbound.channel.value) == (
        "reply",
        "lan.nguyen@example.vn",
        "email",
    )


def test_an_internal_note_is_private_and_never_sent() -> None:
    change = apply_action(
        make_new_ticket().state, action("note", text="Khách VIP, xử lý trước"), LATER
    )
    [event] = change.events
    assert event.payload.message.public is False
    assert change.state.snapshot.status is TicketStatus.NEW


def test_solving_records_the_time_and_reopening_counts() -> None:
    solved = apply_action(
        with_status(TicketStatus.OPEN), action("set_status", status="solved"), LATER
    )
    assert solved.state.snapshot.solved_at == LATER
    reopened = apply_action(solved.state, action("set_status", status="open"), LATER)
    assert (reopened.state.snapshot.reopen_count, reopened.state.snapshot.solved_at) == (1, None)


@pytest.mark.parametrize(
    ("status", "act", "reason"),
    [
        (TicketStatus.CLOSED, action("reply", text="x"), "closed ticket cannot change"),
        (
            TicketStatus.SOLVED,
            action("set_status", status="pending"),
            "cannot go from solved to pending",
        ),
        (TicketStatus.OPEN, action("set_status", status="open"), "already open"),
        (TicketStatus.NEW, action("set_status", status="closed"), "cannot go from new to closed"),
        (TicketStatus.OPEN, action("set_priority", priority="normal"), "already normal priority"),
        (TicketStatus.SOLVED, action("set_priority", priority="high"), "reopen the ticket"),
        (
            TicketStatus.SOLVED,
            action("transfer", to_team="billing"),
            "solved ticket cannot be transferred",
        ),
        (TicketStatus.OPEN, action("transfer"), "needs a team, an agent or a tier"),
        (TicketStatus.OPEN, action("merge", into_ticket_id="T-1"), "merged into itself"),
        (TicketStatus.OPEN, action("not_helpful"), "only a ticket answered by a FAQ"),
    ],
)
def test_invalid_actions_are_refused_with_a_reason(
    status: TicketStatus, act: TicketAction, reason: str
) -> None:
    with pytest.raises(TransitionRefused, match=reason):
        apply_action(with_status(status), act, LATER)


def test_an_agent_priority_change_locks_the_priority() -> None:
    change = apply_action(
        with_status(TicketStatus.OPEN), action("set_priority", priority="urgent"), LATER
    )
    assert change.state.priority_locked
    assert change.state.snapshot.priority is Priority.URGENT


def test_transfer_moves_team_and_tier() -> None:
    change = apply_action(
        with_status(TicketStatus.OPEN), action("transfer", to_team="technical", to_tier="L2"), LATER
    )
    assert (change.state.snapshot.team, change.state.snapshot.tier_required) == ("technical", "L2")
    assert change.events[0].payload.to_tier == "L2"


def test_merge_closes_the_ticket_into_the_other() -> None:
    change = apply_action(
        with_status(TicketStatus.OPEN), action("merge", into_ticket_id="T-2"), LATER
    )
    assert (change.state.snapshot.status, change.state.snapshot.merged_into) == (
        TicketStatus.CLOSED,
        "T-2",
    )
    assert change.events[0].type == "ticket.merged"


def test_not_helpful_sends_a_deflected_ticket_to_a_human() -> None:
    deflected = deflect(make_new_ticket().state, "kb-1", 0.9, T0).state
    change = apply_action(deflected, action("not_helpful"), LATER)
    assert change.state.snapshot.status is TicketStatus.OPEN
    assert change.events[0].payload.reason == "faq_not_helpful"


def test_a_backdated_reply_takes_effect_when_received_and_keeps_the_callers_time() -> None:
    claimed = T0 + timedelta(minutes=1)  # "I answered long ago": the SLA would be met
    reply = action("reply", text="Em đã kiểm tra ạ.", at=claimed.isoformat())
    change = apply_action(make_new_ticket().state, reply, LATER)
    assert change.state.snapshot.first_agent_reply_at == LATER
    message = change.events[0].payload.message
    assert (message.sent_at, message.client_at) == (LATER, claimed)
