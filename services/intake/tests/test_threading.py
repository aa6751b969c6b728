from datetime import timedelta

import pytest

from s8_intake.domain.threading import ThreadingKind, ThreadingPolicy, TicketRef, decide
from s8_shared.contracts import Channel, TicketStatus
from s8_testing.builders import T0
from s8_testing.intake_builders import make_message

POLICY = ThreadingPolicy(reopen_window=timedelta(days=7), callback_window=timedelta(hours=2))
NOW = T0 + timedelta(days=1)


def ref(
    status: TicketStatus,
    *,
    solved_days_ago: float | None = None,
    idle: timedelta = timedelta(minutes=5),
    by: str = "conversation",
) -> TicketRef:
    solved = NOW - timedelta(days=solved_days_ago) if solved_days_ago is not None else None
    return TicketRef("T-old", "C-1", status, NOW - idle, solved, by)


@pytest.mark.parametrize(
    "status", [TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD]
)
def test_a_message_joins_the_active_ticket_of_its_conversation(status: TicketStatus) -> None:
    decision = decide(make_message(), [ref(status)], NOW, POLICY)
    assert decision.kind is ThreadingKind.JOIN
    assert decision.ticket_id == "T-old"


def test_a_ticket_solved_within_the_window_reopens() -> None:
    decision = decide(make_message(), [ref(TicketStatus.SOLVED, solved_days_ago=6.9)], NOW, POLICY)
    assert decision.kind is ThreadingKind.REOPEN
    assert decision.ticket_id == "T-old"


@pytest.mark.parametrize(
    ("status", "days"), [(TicketStatus.SOLVED, 7.1), (TicketStatus.CLOSED, 1.0)]
)
def test_an_older_solved_or_a_closed_ticket_gives_a_new_linked_ticket(
    status: TicketStatus, days: float
) -> None:
    decision = decide(make_message(), [ref(status, solved_days_ago=days)], NOW, POLICY)
    assert decision.kind is ThreadingKind.NEW
    assert decision.ticket_id is None
    assert decision.linked_ticket_id == "T-old"


def test_no_earlier_conversation_gives_a_new_unlinked_ticket() -> None:
    decision = decide(make_message(), [], NOW, POLICY)
    assert (decision.kind, decision.linked_ticket_id) == (ThreadingKind.NEW, None)


@pytest.mark.parametrize(
    ("idle", "kind"),
    [(timedelta(minutes=90), ThreadingKind.JOIN), (timedelta(hours=3), ThreadingKind.NEW)],
)
def test_a_phone_callback_joins_only_within_the_callback_window(
    idle: timedelta, kind: ThreadingKind
) -> None:
    call = make_message(channel=Channel.PHONE, dedup_key="phone:call-9")
    assert decide(call, [ref(TicketStatus.OPEN, idle=idle)], NOW, POLICY).kind is kind


def test_an_explicit_ticket_token_wins_over_the_conversation() -> None:
    token = TicketRef("T-token", "C-1", TicketStatus.OPEN, NOW, None, "token")
    decision = decide(make_message(), [token, ref(TicketStatus.OPEN)], NOW, POLICY)
    assert decision.ticket_id == "T-token"
    assert "token" in decision.reason
