"""Where intake keeps tickets and messages."""

from __future__ import annotations

import json
from typing import Any, Protocol

from pymongo import ASCENDING, ReturnDocument

from s8_shared.contracts import MessageInfo, TicketSnapshot
from s8_shared.mongo import IndexSpec, MongoStore


class TicketRepository(Protocol):
    async def store_new(
        self, ticket: TicketSnapshot, message: MessageInfo, raw: dict[str, Any]
    ) -> tuple[TicketSnapshot, MessageInfo, bool]:
        """Stores the ticket and its first message unless the message is known.
        Returns what is stored and whether its ticket.created was already published."""
        ...

    async def mark_published(self, message_id: str) -> None: ...

    async def get(self, ticket_id: str) -> dict[str, Any] | None: ...


class MongoTicketRepository:
    TICKETS = "tickets"
    MESSAGES = "messages"
    INDEXES = (
        IndexSpec(MESSAGES, [("ticket_id", ASCENDING), ("sent_at", ASCENDING)]),
        IndexSpec(TICKETS, [("customer_id", ASCENDING), ("created_at", ASCENDING)]),
    )

    def __init__(self, store: MongoStore) -> None:
        self.tickets = store.collection(self.TICKETS)
        self.messages = store.collection(self.MESSAGES)

    async def store_new(
        self, ticket: TicketSnapshot, message: MessageInfo, raw: dict[str, Any]
    ) -> tuple[TicketSnapshot, MessageInfo, bool]:
        # The message id (channel + channel message id) is the dedup key: upserting on it
        # with $setOnInsert makes a redelivered or re-sent message a no-op.
        msg_doc = message.model_dump(mode="python")
        msg_doc.pop("message_id")
        # Channel payloads are stored as a JSON string: their keys may start with `$` or
        # contain `.`, which must never reach the store as field names.
        stored_msg = await self.messages.find_one_and_update(
            {"_id": message.message_id},
            {
                "$setOnInsert": {
                    **msg_doc,
                    "ticket_id": ticket.ticket_id,
                    "raw_json": json.dumps(raw, ensure_ascii=False, default=str),
                    "published": False,
                }
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if stored_msg is None:  # an upsert returning AFTER always returns the document
            raise RuntimeError("message upsert returned no document")
        ticket_doc = ticket.model_dump(mode="python")
        ticket_doc.pop("ticket_id")
        stored_ticket = await self.tickets.find_one_and_update(
            {"_id": stored_msg["ticket_id"]},
            {"$setOnInsert": ticket_doc},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if stored_ticket is None:
            raise RuntimeError("ticket upsert returned no document")
        snapshot = TicketSnapshot.model_validate(
            {**stored_ticket, "ticket_id": stored_ticket["_id"]}
        )
        stored_message = MessageInfo.model_validate({**stored_msg, "message_id": stored_msg["_id"]})
        return snapshot, stored_message, bool(stored_msg.get("published"))

    async def mark_published(self, message_id: str) -> None:
        await self.messages.update_one({"_id": message_id}, {"$set": {"published": True}})

    async def get(self, ticket_id: str) -> dict[str, Any] | None:
        doc = await self.tickets.find_one({"_id": ticket_id})
        if doc is None:
            return None
        messages = (
            await self.messages.find({"ticket_id": ticket_id})
            .sort("sent_at", ASCENDING)
            .to_list(None)
        )
        return {
            "ticket": TicketSnapshot.model_validate({**doc, "ticket_id": doc["_id"]}),
            "messages": [
                MessageInfo.model_validate({**m, "message_id": m["_id"]}) for m in messages
            ],
        }
