"""The outbox inside a document: a change and the events it must publish are written in
one document update (no multi-document transactions needed), then published and removed.
A crash in between leaves them there; the next delivery or a sweeper publishes them (same
event ids, so consumers apply them once)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from s8_shared import topics
from s8_shared.contracts import Event
from s8_shared.mongo import Document
from s8_shared.topics import TopicSpec

TOPIC_OF_TYPE_PREFIX: dict[str, TopicSpec] = {
    "outbound.": topics.OUTBOUND,
    "problem.": topics.PROBLEMS,
}
TOPIC_BY_NAME: dict[str, TopicSpec] = {t.base_name: t for t in topics.ALL_TOPICS}


@dataclass(frozen=True)
class OutboxItem:
    event_id: str
    topic: str
    key: str
    body: str

    @property
    def spec(self) -> TopicSpec:
        return TOPIC_BY_NAME[self.topic]


def outbox_item(event: Event[Any]) -> OutboxItem:
    """Where an event goes: outbound messages and problem events have their own topics,
    everything else intake writes is about a ticket."""
    spec = next(
        (t for p, t in TOPIC_OF_TYPE_PREFIX.items() if event.type.startswith(p)), topics.TICKETS
    )
    return OutboxItem(
        str(event.event_id), spec.base_name, event.partition_key().decode(), event.model_dump_json()
    )


class Outbox:
    """The `outbox` array (and `has_outbox` flag) of a collection's documents."""

    def __init__(self, col: AsyncCollection[Document]) -> None:
        self.col = col

    async def items(self, doc_id: str) -> list[OutboxItem]:
        doc = await self.col.find_one({"_id": doc_id}, projection={"outbox": 1})
        return [OutboxItem(**item) for item in (doc or {}).get("outbox", [])]

    async def remove(self, doc_id: str, event_ids: Sequence[str]) -> None:
        await self.col.update_one(
            {"_id": doc_id}, {"$pull": {"outbox": {"event_id": {"$in": list(event_ids)}}}}
        )
        await self.col.update_one(
            {"_id": doc_id, "outbox": {"$size": 0}}, {"$set": {"has_outbox": False}}
        )

    async def pending(self, limit: int = 100) -> list[str]:
        cursor = self.col.find({"has_outbox": True}, projection={"_id": 1}).limit(limit)
        return [doc["_id"] async for doc in cursor]
