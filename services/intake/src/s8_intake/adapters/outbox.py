"""Which topic each event intake writes goes to; the outbox itself is `s8_shared.outbox`."""

from __future__ import annotations

from typing import Any

from s8_shared import topics
from s8_shared.contracts import Event, OutboundMessageRequested
from s8_shared.contracts.problems import (
    CustomerNotified,
    ProblemDeclared,
    ProblemResolved,
    ProblemUpdated,
)
from s8_shared.outbox import Outbox, OutboxItem, item_for


def outbox_item(event: Event[Any]) -> OutboxItem:
    """Where an event goes: outbound messages and problem events have their own topics,
    everything else intake writes is about a ticket."""
    match event:
        case OutboundMessageRequested():
            spec = topics.OUTBOUND
        case ProblemDeclared() | ProblemUpdated() | ProblemResolved() | CustomerNotified():
            spec = topics.PROBLEMS
        case _:
            spec = topics.TICKETS
    return item_for(spec, event)


__all__ = ["Outbox", "OutboxItem", "outbox_item"]
