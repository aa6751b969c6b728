"""Customer and agent messages, keyed by the channel's own message id (the dedup key)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument

from s8_shared.contracts import MessageInfo
from s8_shared.mongo import Document, IndexSpec, MongoStore

MESSAGES = "messages"
SKIPPED = "skipped_messages"


def dumps(value: Any) -> str:
    """Channel payloads are stored as JSON text: their keys may start with `$` or contain
    `.`, which must never reach the store as field names."""
    return json.dumps(value, ensure_ascii=False, default=str)


class MessageStore:
    INDEXES = (IndexSpec(MESSAGES, [("ticket_id", ASCENDING), ("sent_at", ASCENDING)]),)

    def __init__(self, store: MongoStore) -> None:
        self.col = store.collection(MESSAGES)
        self.skipped = store.collection(SKIPPED)

    async def get(self, dedup_key: str) -> Document | None:
        return await self.col.find_one({"_id": dedup_key})

    async def claim(
        self, dedup_key: str, ticket_id: str, threading: str, linked_ticket_id: str | None
    ) -> Document:
        """Records which ticket this message goes to, once: a redelivery finds the same
        decision even if the conversation changed meanwhile."""
        doc = await self.col.find_one_and_update(
            {"_id": dedup_key},
            {
                "$setOnInsert": {
                    "ticket_id": ticket_id,
                    "threading": threading,
                    "linked_ticket_id": linked_ticket_id,
                    "state": "pending",
                }
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None  # an upsert returning AFTER always has a document
        return doc

    async def mark_applied(
        self,
        info: MessageInfo,
        raw: dict[str, Any],
        details: dict[str, Any],
        filed: Document,
    ) -> None:
        """The message as applied to the ticket it was filed in (`ticket_id`, `threading`,
        `linked_ticket_id`): written here when no claim was needed (a new ticket, whose
        insert records the decision), completed here after a claim."""
        fields = info.model_dump(mode="python")
        fields.pop("message_id")
        filing = {k: filed.get(k) for k in ("ticket_id", "threading", "linked_ticket_id")}
        await self.col.update_one(
            {"_id": info.message_id},
            {
                "$set": {
                    **fields,
                    **filing,
                    "state": "applied",
                    "raw_json": dumps(raw),
                    "details_json": dumps(details),
                }
            },
            upsert=True,
        )

    async def add_agent_message(self, ticket_id: str, info: MessageInfo) -> None:
        fields = info.model_dump(mode="python")
        await self.col.update_one(
            {"_id": fields.pop("message_id")},
            {"$setOnInsert": {**fields, "ticket_id": ticket_id, "state": "applied"}},
            upsert=True,
        )

    async def for_ticket(self, ticket_id: str) -> list[MessageInfo]:
        cursor = self.col.find({"ticket_id": ticket_id, "state": "applied"}).sort(
            "sent_at", ASCENDING
        )
        return [MessageInfo.model_validate({**d, "message_id": d["_id"]}) async for d in cursor]

    async def record_skipped(
        self, dedup_key: str, reason: str, at: datetime, raw: dict[str, Any]
    ) -> None:
        await self.skipped.update_one(
            {"_id": dedup_key},
            {"$setOnInsert": {"reason": reason, "at": at, "raw_json": dumps(raw)}},
            upsert=True,
        )
