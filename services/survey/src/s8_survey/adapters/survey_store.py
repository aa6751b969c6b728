"""Surveys and per-customer survey history in the survey service's own store. Sending an
invitation and taking an answer each write the events they cause into the survey's outbox
in the same update (s8_shared.outbox); they are published after."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument

from s8_shared.mongo import Document, IndexSpec, MongoStore
from s8_shared.outbox import Outbox, OutboxItem, outbox_index, pushed

SURVEYS = "surveys"
CUSTOMERS = "survey_customers"


class SurveyStore:
    INDEXES = (
        IndexSpec(SURVEYS, [("state", ASCENDING), ("send_at", ASCENDING)]),
        IndexSpec(SURVEYS, [("ticket_id", ASCENDING)]),
        IndexSpec(SURVEYS, [("kind", ASCENDING), ("state", ASCENDING)]),
        outbox_index(SURVEYS),
    )

    def __init__(self, store: MongoStore) -> None:
        self.col = store.collection(SURVEYS)
        self.customers = store.collection(CUSTOMERS)
        self.outbox = Outbox(self.col)

    async def schedule(self, survey: Document) -> bool:
        """Stores a planned survey once (its id is derived from what triggered it)."""
        result = await self.col.update_one(
            {"_id": survey["_id"]}, {"$setOnInsert": survey}, upsert=True
        )
        return result.upserted_id is not None

    async def get(self, survey_id: str) -> Document | None:
        return await self.col.find_one({"_id": survey_id})

    async def for_ticket(self, ticket_id: str, kind: str) -> Document | None:
        return await self.col.find_one({"ticket_id": ticket_id, "kind": kind})

    async def next_due(self, now: datetime) -> Document | None:
        return await self.col.find_one(
            {"state": "scheduled", "send_at": {"$lte": now}}, sort=[("send_at", ASCENDING)]
        )

    async def mark_sent(self, survey_id: str, now: datetime, events: Sequence[OutboxItem]) -> bool:
        """Marks a scheduled survey sent, with its invitation events in the outbox; False
        when another replica sent it first."""
        update = pushed(events)
        update["$set"] = {**update.get("$set", {}), "state": "sent", "sent_at": now}
        result = await self.col.update_one({"_id": survey_id, "state": "scheduled"}, update)
        return result.modified_count == 1

    async def record_answer(
        self, survey_id: str, revision: int, fields: dict[str, Any], events: Sequence[OutboxItem]
    ) -> Document | None:
        """Compare-and-set on the revision, so two submissions cannot both be first; the
        events the answer causes go in the outbox in the same update."""
        update = pushed(events)
        update["$set"] = {**update.get("$set", {}), **fields, "revision": revision, "state": "answered"}  # fmt: skip
        return await self.col.find_one_and_update(
            {"_id": survey_id, "revision": revision - 1},
            update,
            return_document=ReturnDocument.AFTER,
        )

    async def customer(self, customer_id: str) -> Document:
        return await self.customers.find_one({"_id": customer_id}) or {"_id": customer_id}

    async def note_solved(self, customer_id: str, ticket_id: str) -> int:
        doc = await self.customers.find_one_and_update(
            {"_id": customer_id},
            {"$addToSet": {"solved_tickets": ticket_id}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return len((doc or {}).get("solved_tickets", []))

    async def note_planned(self, customer_id: str, kind: str, at: datetime) -> None:
        await self.customers.update_one(
            {"_id": customer_id}, {"$set": {f"last_{kind}_at": at}}, upsert=True
        )

    async def rates(self) -> dict[str, dict[str, int]]:
        cursor = await self.col.aggregate(
            [{"$group": {"_id": {"kind": "$kind", "state": "$state"}, "n": {"$sum": 1}}}]
        )
        out: dict[str, dict[str, int]] = {}
        async for row in cursor:
            out.setdefault(row["_id"]["kind"], {})[row["_id"]["state"]] = int(row["n"])
        return out
