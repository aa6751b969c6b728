"""The outbox inside a document, s8's one persistence discipline: a change and the events it
causes are written in one document update (no multi-document transaction needed), then
published and removed. A crash or a broker error in between leaves them there; the next
delivery of the same input or the service's sweeper publishes them (the same deterministic
event ids, so consumers apply them once)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from s8_shared import topics
from s8_shared.contracts import (
    ASSIGNMENT_EVENTS,
    OUTBOUND_EVENTS,
    SLA_EVENTS,
    SURVEY_EVENTS,
    TICKET_EVENTS,
    Event,
    EventFamily,
)
from s8_shared.mongo import Document, IndexSpec
from s8_shared.topics import TopicSpec

TOPIC_BY_NAME: dict[str, TopicSpec] = {t.base_name: t for t in topics.ALL_TOPICS}
FAMILY_OF_TOPIC: dict[str, EventFamily] = {
    topics.TICKETS.base_name: TICKET_EVENTS,
    topics.SLA.base_name: SLA_EVENTS,
    topics.SURVEYS.base_name: SURVEY_EVENTS,
    topics.OUTBOUND.base_name: OUTBOUND_EVENTS,
    topics.ASSIGNMENTS.base_name: ASSIGNMENT_EVENTS,
}


@dataclass(frozen=True)
class OutboxItem:
    event_id: str
    topic: str
    key: str
    body: str

    @property
    def spec(self) -> TopicSpec:
        return TOPIC_BY_NAME[self.topic]

    def event(self) -> Event[Any] | None:
        """The stored event, typed (None if this version cannot read it)."""
        family = FAMILY_OF_TOPIC.get(self.topic)
        return family.decode(self.body) if family else None


def item_for(spec: TopicSpec, event: Event[Any]) -> OutboxItem:
    return OutboxItem(
        str(event.event_id), spec.base_name, event.partition_key().decode(), event.model_dump_json()
    )


def pushed(items: Sequence[OutboxItem]) -> dict[str, Any]:
    """The update operators that add `items` to a document's outbox (none for no items)."""
    if not items:
        return {}
    return {
        "$push": {"outbox": {"$each": [asdict(i) for i in items]}},
        "$set": {"has_outbox": True},
    }


def outbox_index(collection: str) -> IndexSpec:
    return IndexSpec(collection, [("has_outbox", ASCENDING)])


def _emptied(doc_id: str, ids: list[str]) -> UpdateOne:
    """Empties the outbox if it holds just `ids` (distinct): as many items, each of them."""
    return UpdateOne(
        {"_id": doc_id, "outbox": {"$size": len(ids)}, "outbox.event_id": {"$all": ids}},
        {"$set": {"outbox": [], "has_outbox": False}},
    )


class Outbox:
    """The `outbox` array (and `has_outbox` flag) of a collection's documents."""

    def __init__(self, col: AsyncCollection[Document]) -> None:
        self.col = col

    async def items(self, doc_id: str) -> list[OutboxItem]:
        doc = await self.col.find_one({"_id": doc_id}, projection={"outbox": 1})
        return [OutboxItem(**item) for item in (doc or {}).get("outbox", [])]

    async def remove(self, doc_id: str, event_ids: Sequence[str]) -> None:
        await self.remove_all({doc_id: event_ids})

    async def remove_all(self, published: Mapping[str, Sequence[str]]) -> None:
        """Takes each document's published events out of its outbox. Usually an outbox holds
        exactly those (nothing was added meanwhile): then one command empties them all."""
        if not published:
            return
        exactly = [_emptied(doc_id, list(dict.fromkeys(ids))) for doc_id, ids in published.items()]
        result = await self.col.bulk_write(exactly, ordered=False)
        if result.matched_count == len(exactly):
            return
        for doc_id, ids in published.items():  # those emptied already are left as they are
            await self.col.update_one(
                {"_id": doc_id}, {"$pull": {"outbox": {"event_id": {"$in": list(ids)}}}}
            )
            await self.col.update_one(
                {"_id": doc_id, "outbox": {"$size": 0}}, {"$set": {"has_outbox": False}}
            )

    async def pending(self, limit: int = 100) -> list[str]:
        cursor = self.col.find({"has_outbox": True}, projection={"_id": 1}).limit(limit)
        return [doc["_id"] async for doc in cursor]
