"""Which ticket a customer message belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from s8_intake.domain.model import NormalizedMessage
from s8_intake.domain.status import ACTIVE
from s8_shared.contracts import Channel, TicketStatus


class ThreadingKind(StrEnum):
    JOIN = "join"
    REOPEN = "reopen"
    NEW = "new"


@dataclass(frozen=True)
class ThreadingPolicy:
    reopen_window: timedelta = timedelta(days=7)
    callback_window: timedelta = timedelta(hours=2)


@dataclass(frozen=True)
class TicketRef:
    """What threading needs to know about a candidate ticket."""

    ticket_id: str
    customer_id: str
    status: TicketStatus
    last_activity_at: datetime
    solved_at: datetime | None = None
    matched_by: str = "conversation"  # token, email_thread or conversation


@dataclass(frozen=True)
class Threading:
    kind: ThreadingKind
    ticket_id: str | None = None
    linked_ticket_id: str | None = None
    reason: str = ""


CALLBACK_CHANNELS = frozenset({Channel.PHONE, Channel.SMS})


def decide(
    message: NormalizedMessage,
    candidates: list[TicketRef],
    now: datetime,
    policy: ThreadingPolicy = ThreadingPolicy(),
) -> Threading:
    """Join the conversation's active ticket; reopen one solved within the reopen window;
    otherwise open a new ticket, linked to the earlier one when there is one.

    Candidates come most specific first: an explicit `[#ticket]` token, then the email
    thread, then the conversation (chat session, social thread, caller number).
    """
    for ref in candidates:
        if (
            message.channel in CALLBACK_CHANNELS
            and ref.matched_by == "conversation"
            and now - ref.last_activity_at > policy.callback_window
        ):
            return Threading(
                ThreadingKind.NEW,
                linked_ticket_id=ref.ticket_id,
                reason="callback window passed",
            )
        if ref.status in ACTIVE:
            return Threading(ThreadingKind.JOIN, ref.ticket_id, reason=f"same {ref.matched_by}")
        if (
            ref.status == TicketStatus.SOLVED
            and ref.solved_at is not None
            and now - ref.solved_at <= policy.reopen_window
        ):
            return Threading(
                ThreadingKind.REOPEN,
                ref.ticket_id,
                reason=f"solved less than {policy.reopen_window.days} days ago",
            )
        return Threading(
            ThreadingKind.NEW,
            linked_ticket_id=ref.ticket_id,
            reason=f"earlier ticket is {ref.status.value}",
        )
    return Threading(ThreadingKind.NEW, reason="no earlier conversation")
