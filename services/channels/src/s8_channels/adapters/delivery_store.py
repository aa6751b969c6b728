"""Deliveries in the store (`deliveries`, `_id` = outbound id), each with its outbox.

- Recorded once (`$setOnInsert`): a redelivered or repeated request changes nothing, and an
  outbound id already delivered or failed is never sent again.
- A due delivery (`state` pending, `next_attempt_at` past) is claimed in one
  find-and-modify that pushes `next_attempt_at` a lease ahead and counts the attempt: two
  replicas never send the same one at once, and if the claiming replica dies mid-send the
  lease runs out and another takes it.
- An outcome is written only by the claim that made the attempt (its `claim` token); a
  final one is written with the events it causes in the outbox (s8_shared.outbox), which
  are published after and swept if a crash intervenes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument

from s8_channels.domain.delivery import DELIVERED, FAILED, PENDING
from s8_shared.mongo import Document, IndexSpec, MongoStore
from s8_shared.outbox import Outbox, OutboxItem, outbox_index, pushed

DELIVERIES = "deliveries"


@dataclass(frozen=True)
class NewDelivery:
    outbound_id: str
    request: str  # the request event's JSON (its dead letter's copy of the original)
    requested_at: datetime
    channel: str
    customer_id: str
    ticket_id: str | None
    recorded_at: datetime

    def document(self) -> Document:
        return {
            "_id": self.outbound_id,
            "state": PENDING,
            "next_attempt_at": self.recorded_at,
            "attempts": 0,
            "request": self.request,
            "requested_at": self.requested_at,
            "recorded_at": self.recorded_at,
            "channel": self.channel,
            "customer_id": self.customer_id,
            "ticket_id": self.ticket_id,
            "outbox": [],
            "has_outbox": False,
        }


@dataclass(frozen=True)
class Claimed:
    outbound_id: str
    request: str
    attempts: int  # this attempt included
    claim: str


class MongoDeliveryStore:
    INDEXES = (
        IndexSpec(DELIVERIES, [("state", ASCENDING), ("next_attempt_at", ASCENDING)]),
        IndexSpec(DELIVERIES, [("finished_at", ASCENDING)]),
        outbox_index(DELIVERIES),
    )

    def __init__(self, store: MongoStore) -> None:
        self.col = store.collection(DELIVERIES)
        self.outbox = Outbox(self.col)

    async def record(self, delivery: NewDelivery) -> bool:
        doc = delivery.document()
        result = await self.col.update_one({"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True)
        return result.upserted_id is not None

    async def claim_due(
        self, now: datetime, lease: timedelta, claim: str, owner: str
    ) -> Claimed | None:
        doc = await self.col.find_one_and_update(
            {"state": PENDING, "next_attempt_at": {"$lte": now}},
            {
                "$set": {"next_attempt_at": now + lease, "claim": claim, "claimed_by": owner},
                "$inc": {"attempts": 1},
            },
            sort=[("next_attempt_at", ASCENDING)],
            projection={"request": 1, "attempts": 1},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        return Claimed(doc["_id"], doc["request"], int(doc["attempts"]), claim)

    async def reschedule(
        self, outbound_id: str, claim: str, at: datetime, error: str, provider: str
    ) -> bool:
        result = await self.col.update_one(
            {"_id": outbound_id, "state": PENDING, "claim": claim},
            {"$set": {"next_attempt_at": at, "last_error": error, "provider": provider}},
        )
        return result.modified_count == 1

    async def finish(
        self,
        outbound_id: str,
        claim: str,
        state: str,
        fields: dict[str, Any],
        events: Sequence[OutboxItem],
    ) -> bool:
        if state not in (DELIVERED, FAILED):
            raise ValueError(f"not a final state: {state}")
        update = pushed(events)
        update["$set"] = {
            **update.get("$set", {}),
            **fields,
            "state": state,
            "next_attempt_at": None,
        }
        result = await self.col.update_one(
            {"_id": outbound_id, "state": PENDING, "claim": claim}, update
        )
        return result.modified_count == 1

    async def outbox_items(self, outbound_id: str) -> list[OutboxItem]:
        return await self.outbox.items(outbound_id)

    async def remove_from_outbox(self, outbound_id: str, event_ids: Sequence[str]) -> None:
        await self.outbox.remove(outbound_id, event_ids)

    async def with_outbox(self, limit: int = 100) -> list[str]:
        return await self.outbox.pending(limit)

    async def purge_finished(self, before: datetime) -> int:
        """Forgets deliveries finished before `before` whose events are all published (a
        request is never redelivered that late)."""
        result = await self.col.delete_many({"finished_at": {"$lt": before}, "has_outbox": False})
        return result.deleted_count
