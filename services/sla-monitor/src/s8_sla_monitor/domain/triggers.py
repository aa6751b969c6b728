"""What a ticket event means to the ticket's SLA clocks: the clock domain's typed input.

`trigger_for` reads the typed ticket events of `s8_shared.contracts` (matched on their
classes, never on type strings) and decides what the clocks must do, including the two
cases where the event alone does not say it: a ticket parked by a FAQ answer or a known
problem starts no clock yet, and such a ticket coming to a human later starts them then.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from s8_shared.contracts import (
    Author,
    Event,
    TicketCreated,
    TicketMerged,
    TicketMessageAdded,
    TicketSnapshot,
    TicketStatus,
    TicketStatusChanged,
)


@dataclass(frozen=True)
class Opened:
    """The ticket needs a human: first response and resolution start (once per ticket)."""


@dataclass(frozen=True)
class MessageAdded:
    author: Author
    public: bool


@dataclass(frozen=True)
class StatusChanged:
    from_status: TicketStatus
    to_status: TicketStatus


@dataclass(frozen=True)
class Merged:
    """Merged into another ticket: every clock of this one is cancelled."""


@dataclass(frozen=True)
class Updated:
    """Anything else (priority, team, tier, a problem link, new policies): open clocks
    follow the ticket's current policy and status."""


Trigger = Opened | MessageAdded | StatusChanged | Merged | Updated


def parked(snapshot: TicketSnapshot) -> bool:
    """A FAQ answer or a known problem's status went out: no human is needed yet."""
    return snapshot.deflected or (
        bool(snapshot.problem_id) and snapshot.status is TicketStatus.PENDING
    )


def trigger_for(event: Event[Any], *, has_clocks: bool) -> Trigger | None:
    """The trigger of a ticket event; None when the clocks must not even be looked at
    (a parked ticket was created: clocks start if the customer needs a human)."""
    match event:
        case TicketCreated(payload=payload):
            return None if parked(payload.ticket) else Opened()
        case TicketMessageAdded(payload=payload):
            return MessageAdded(author=payload.message.author, public=payload.message.public)
        case TicketStatusChanged(payload=payload):
            if not has_clocks and payload.ticket.status is TicketStatus.OPEN:
                return Opened()  # a deflected ticket comes to a human now
            return StatusChanged(from_status=payload.from_status, to_status=payload.to_status)
        case TicketMerged():
            return Merged()
        case _:
            return Updated()
