"""Who hears what, live."""

from __future__ import annotations

from datetime import timedelta

from s8_desk.domain.notices import Due, on_approval_requested, on_decision, on_message, on_sla
from s8_shared.contracts import AssignmentPayload, Author, MessageInfo, Priority, SlaPayload
from s8_testing.builders import T0


def decision(agent: str | None, **more: object) -> AssignmentPayload:
    return AssignmentPayload.model_validate(
        {"ticket_id": "T-1", "agent_id": agent, "channel_kind": "chat",
         "priority": Priority.HIGH, "reason": "transfer", **more}
    )  # fmt: skip


def message(author: Author) -> MessageInfo:
    return MessageInfo(message_id="m1", author=author, channel="live_chat", text="alo", sent_at=T0)


def test_an_offer_reaches_its_agent_with_the_deadline_and_the_one_before_hears_it_moved() -> None:
    deadline = T0 + timedelta(seconds=45)
    due = on_decision(
        "ticket.reassigned",
        decision("minh", previous_agent_id="lan", offer_expires_at=deadline),
        T0,
        "lan",
    )
    assert due == [
        Due("minh", "offered", "T-1", T0, deadline, "transfer"),
        Due("lan", "transferred_away", "T-1", T0, None, "transfer"),
    ]


def test_a_queued_decision_tells_the_agent_who_held_it_and_nobody_else() -> None:
    assert on_decision("ticket.queued", decision(None), T0, None) == []
    assert [d.agent_id for d in on_decision("ticket.unassigned", decision(None), T0, "lan")] == [
        "lan"
    ]


def test_only_a_customer_message_on_a_held_ticket_notifies() -> None:
    assert on_message("T-1", message(Author.CUSTOMER), "lan") == [
        Due("lan", "customer_answered", "T-1", T0)
    ]
    assert on_message("T-1", message(Author.AGENT), "lan") == []
    assert on_message("T-1", message(Author.CUSTOMER), None) == []


def test_warnings_and_breaches_notify_the_holder_with_the_due_moment() -> None:
    clock = SlaPayload.model_validate(
        {"ticket_id": "T-1", "policy_id": "p", "target": "resolution", "clock_id": "T-1/resolution/1",
         "priority": "high", "channel": "email", "calendar_id": "vn", "target_seconds": 3600,
         "due_at": T0, "elapsed_business_seconds": 3000.0, "elapsed_calendar_seconds": 3000.0,
         "remaining_business_seconds": 600.0}
    )  # fmt: skip
    assert on_sla("sla.warning", clock, T0, "lan") == [
        Due("lan", "sla_warning", "T-1", T0, T0, "resolution")
    ]
    assert on_sla("sla.met", clock, T0, "lan") == []
    assert on_sla("sla.breached", clock, T0, None) == []


def test_every_lead_hears_an_approval_request() -> None:
    due = on_approval_requested("T-1", "offer-1", T0, {"ha", "an"})
    assert [(d.agent_id, d.kind, d.detail) for d in due] == [
        ("an", "approval_needed", "offer-1"), ("ha", "approval_needed", "offer-1")
    ]  # fmt: skip
