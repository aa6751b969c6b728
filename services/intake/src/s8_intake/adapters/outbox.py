"""Which topic each event intake writes goes to; the outbox itself is `s8_shared.outbox`."""

from __future__ import annotations

from typing import Any

from s8_shared import topics
from s8_shared.contracts import Event
from s8_shared.outbox import Outbox, OutboxItem, item_for
from s8_shared.topics import TopicSpec

TOPIC_OF_TYPE_PREFIX: dict[str, TopicSpec] = {
    "outbound.": topics.OUTBOUND,
    "problem.": topics.PROBLEMS,
}


def outbox_item(event: Event[Any]) -> OutboxItem:
    """Where an event goes: outbound messages and problem events have their own topics,
    everything else intake writes is about a ticket."""
    spec = next(
        (t for p, t in TOPIC_OF_TYPE_PREFIX.items() if event.type.startswith(p)), topics.TICKETS
    )
    return item_for(spec, event)


__all__ = ["Outbox", "OutboxItem", "outbox_item"]
