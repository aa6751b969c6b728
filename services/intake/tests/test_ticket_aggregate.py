from datetime import timedelta

from s8_intake.domain.ticket import CustomerView, add_customer_message, deflect, open_ticket
from s8_shared.contracts import Channel, Priority, TicketStatus
from s8_shared.contracts.inbound import TranscriptLine
from s8_testing.builders import T0
from s8_testing.intake_builders import (
    ANGRY,
    NEUTRAL,
    make_classification,
    make_message,
    make_new_ticket,
)

LATER = T0 + timedelta(hours=2)


def test_a_new_ticket_carries_classification_sentiment_and_its_explanation() -> None:
    change = open_ticket(
        "T-1",
        CustomerView("C-1"),
        make_message(),
        make_classification(priority=Priority.HIGH),
        ANGRY,
        T0,
    )
    snap = change.state.snapshot
    assert (snap.status, snap.priority, snap.category, snap.version) == (
        TicketStatus.NEW,
        Priority.HIGH,
        "billing",
        1,
    )
    assert snap.negative_sentiment
    assert snap.classified_by == {"category": "billing-refund"}
    [event] = change.events
    assert event.type == "ticket.created"
    assert event.payload.first_message.sentiment == -0.8


def test_a_bot_handoff_keeps_the_transcript_so_the_customer_never_repeats() -> None:
    transcript = (
        TranscriptLine(author="customer", text="Tôi muốn đổi địa chỉ giao hàng"),
        TranscriptLine(author="bot", text="Bạn vui lòng cho mình mã đơn hàng?"),
    )
    msg = make_message(
        channel=Channel.CHATBOT,
        dedup_key="chatbot:b1",
        transcript=transcript,
        handoff_requested=True,
    )
    change = open_ticket("T-1", CustomerView("C-1"), msg, make_classification(), NEUTRAL, T0)
    assert change.state.snapshot.bot_handoff
    assert [m.text for m in change.events[0].payload.transcript] == [t.text for t in transcript]


def test_a_customer_reply_on_a_solved_ticket_reopens_it() -> None:
    state = make_new_ticket().state
    solved = state.__class__(
        **{
            **state.__dict__,
            "snapshot": state.snapshot.model_copy(
                update={"status": TicketStatus.SOLVED, "solved_at": T0}
            ),
        }
    )
    change = add_customer_message(
        solved, make_message(dedup_key="email:<m2>"), make_classification(), NEUTRAL, LATER
    )
    snap = change.state.snapshot
    assert (snap.status, snap.reopen_count, snap.solved_at, snap.version) == (
        TicketStatus.OPEN,
        1,
        None,
        2,
    )
    assert [e.type for e in change.events] == ["ticket.message_added", "ticket.status_changed"]
    assert change.events[1].payload.reason == "customer_replied"


def test_urgency_in_a_later_message_raises_priority_unless_an_agent_fixed_it() -> None:
    state = make_new_ticket().state
    urgent = make_classification(priority=Priority.URGENT)
    raised = add_customer_message(
        state, make_message(dedup_key="email:<m2>"), urgent, NEUTRAL, LATER
    )
    assert raised.state.snapshot.priority is Priority.URGENT
    assert "ticket.priority_changed" in [e.type for e in raised.events]
    locked = state.__class__(**{**state.__dict__, "priority_locked": True})
    kept = add_customer_message(
        locked, make_message(dedup_key="email:<m2>"), urgent, NEUTRAL, LATER
    )
    assert kept.state.snapshot.priority is Priority.NORMAL


def test_a_lower_priority_message_never_lowers_the_ticket() -> None:
    state = make_new_ticket().state.snapshot.model_copy(update={"priority": Priority.HIGH})
    base = make_new_ticket().state
    change = add_customer_message(
        base.__class__(**{**base.__dict__, "snapshot": state}),
        make_message(dedup_key="email:<m2>"),
        make_classification(priority=Priority.LOW),
        NEUTRAL,
        LATER,
    )
    assert change.state.snapshot.priority is Priority.HIGH


def test_email_threads_and_conversations_accumulate_on_the_ticket() -> None:
    state = make_new_ticket(conversation_key=None).state
    assert state.email_message_ids == ("<m1@example.vn>",)
    change = add_customer_message(
        state,
        make_message(dedup_key="email:<m2@example.vn>"),
        make_classification(),
        NEUTRAL,
        LATER,
    )
    assert change.state.email_message_ids == ("<m1@example.vn>", "<m2@example.vn>")


def test_event_ids_are_deterministic_per_ticket_version() -> None:
    assert make_new_ticket().events[0].event_id == make_new_ticket().events[0].event_id


def test_deflection_sets_pending_and_records_the_article() -> None:
    change = deflect(make_new_ticket().state, "kb-refund-timeline", 0.91, T0)
    snap = change.state.snapshot
    assert (snap.status, snap.deflected) == (TicketStatus.PENDING, True)
    assert [e.type for e in change.events] == ["ticket.deflected", "ticket.status_changed"]
