"""Tickets in Mongo, with an outbox: a change and the events it must publish are written
in one document update (no multi-document transactions needed), then published and
removed. A crash in between leaves the events in the outbox; the next delivery or the
sweeper publishes them (same event ids, so consumers apply them once)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from s8_intake.adapters.outbox import Outbox, OutboxItem, outbox_item
from s8_intake.domain.outreach import IdPage
from s8_intake.domain.threading import TicketRef
from s8_intake.domain.ticket import TicketState
from s8_shared.contracts import Channel, Event, TicketSnapshot
from s8_shared.mongo import Document, IndexSpec, MongoStore

COLLECTION = "tickets"


def to_document(state: TicketState) -> Document:
    doc = state.snapshot.model_dump(mode="python")
    doc["_id"] = doc.pop("ticket_id")
    doc.update(
        conversation_keys=list(state.conversation_keys),
        email_message_ids=list(state.email_message_ids),
        reply_channel=state.reply_channel.value if state.reply_channel else None,
        reply_address=state.reply_address,
        priority_locked=state.priority_locked,
    )
    return doc


def from_document(doc: Document) -> TicketState:
    snapshot = TicketSnapshot.model_validate({**doc, "ticket_id": doc["_id"]})
    return TicketState(
        snapshot=snapshot,
        conversation_keys=tuple(doc.get("conversation_keys", ())),
        email_message_ids=tuple(doc.get("email_message_ids", ())),
        reply_channel=Channel(doc["reply_channel"]) if doc.get("reply_channel") else None,
        reply_address=doc.get("reply_address"),
        priority_locked=bool(doc.get("priority_locked")),
    )


class TicketStore:
    INDEXES = (
        IndexSpec(COLLECTION, [("conversation_keys", ASCENDING)]),
        IndexSpec(COLLECTION, [("email_message_ids", ASCENDING)]),
        IndexSpec(COLLECTION, [("customer_id", ASCENDING), ("created_at", DESCENDING)]),
        IndexSpec(COLLECTION, [("has_outbox", ASCENDING)]),
        IndexSpec(COLLECTION, [("problem_id", ASCENDING), ("customer_id", ASCENDING)]),
    )

    def __init__(self, store: MongoStore) -> None:
        self.col = store.collection(COLLECTION)
        self._outbox = Outbox(self.col)

    async def load(self, ticket_id: str) -> tuple[TicketState, frozenset[str]] | None:
        doc = await self.col.find_one({"_id": ticket_id})
        if doc is None:
            return None
        return from_document(doc), frozenset(doc.get("applied", ()))

    async def insert(
        self, state: TicketState, applied_key: str, events: Sequence[Event[Any]]
    ) -> bool:
        """False when the ticket exists already (a redelivery created it before)."""
        items = [outbox_item(e).__dict__ for e in events]
        doc = {
            **to_document(state),
            "applied": [applied_key],
            "outbox": items,
            "has_outbox": bool(items),
        }
        try:
            await self.col.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def update(
        self,
        state: TicketState,
        expected_version: int,
        applied_key: str,
        events: Sequence[Event[Any]],
    ) -> bool:
        """Compare-and-set on the version; False when someone else changed the ticket
        first (reload and retry) or this change was already applied."""
        doc = to_document(state)
        ticket_id = doc.pop("_id")
        items = [outbox_item(e).__dict__ for e in events]
        result = await self.col.update_one(
            {"_id": ticket_id, "version": expected_version, "applied": {"$ne": applied_key}},
            {
                "$set": {**doc, "has_outbox": True} if items else doc,
                "$push": {"applied": applied_key, "outbox": {"$each": items}},
            },
        )
        return result.modified_count == 1

    async def outbox(self, ticket_id: str) -> list[OutboxItem]:
        return await self._outbox.items(ticket_id)

    async def remove_from_outbox(self, ticket_id: str, event_ids: Sequence[str]) -> None:
        """Forgets published events: one update when they were all the outbox held (the
        usual case), else the shared outbox's pull."""
        ids = list(event_ids)
        if not ids:
            return
        emptied = await self.col.update_one(
            {"_id": ticket_id, "outbox": {"$size": len(ids)}, "outbox.event_id": {"$all": ids}},
            {"$set": {"outbox": [], "has_outbox": False}},
        )
        if emptied.modified_count == 0:
            await self._outbox.remove(ticket_id, ids)

    async def with_outbox(self, limit: int = 100) -> list[str]:
        return await self._outbox.pending(limit)

    async def incidents_of(self, problem_id: str) -> list[TicketState]:
        """Tickets linked to a problem, oldest first."""
        cursor = self.col.find({"problem_id": problem_id}).sort("created_at", ASCENDING)
        return [from_document(d) async for d in cursor]

    async def incident_customers(self, problem_id: str, after: str, limit: int) -> IdPage:
        """Customers with an incident of the problem, in id order after `after`."""
        cursor = (
            self.col.find(
                {"problem_id": problem_id, "customer_id": {"$gt": after}},
                projection={"customer_id": 1},
            )
            .sort("customer_id", ASCENDING)
            .limit(limit)
        )
        docs = [d async for d in cursor]
        return IdPage(list(dict.fromkeys(d["customer_id"] for d in docs)), len(docs) < limit)

    async def latest_incidents(
        self, problem_id: str, customer_ids: Sequence[str]
    ) -> dict[str, TicketState]:
        """Each customer's latest incident of the problem."""
        cursor = self.col.find(
            {"problem_id": problem_id, "customer_id": {"$in": list(customer_ids)}}
        ).sort("created_at", ASCENDING)
        return {d["customer_id"]: from_document(d) async for d in cursor}

    async def last_contact(self, customer_ids: Sequence[str]) -> tuple[Channel, str] | None:
        """Where the customer last wrote from (their latest ticket's reply address)."""
        cursor = (
            self.col.find(
                {"customer_id": {"$in": list(customer_ids)}, "reply_address": {"$ne": None}},
                projection={"reply_channel": 1, "reply_address": 1},
            )
            .sort("updated_at", DESCENDING)
            .limit(1)
        )
        async for doc in cursor:
            if doc.get("reply_channel") and doc.get("reply_address"):
                return Channel(doc["reply_channel"]), str(doc["reply_address"])
        return None

    async def candidates(
        self,
        *,
        token: str | None,
        thread_refs: Sequence[str],
        conversation_key: str | None,
        customer_ids: Sequence[str],
    ) -> list[TicketRef]:
        """Earlier tickets this message may continue, most specific match first."""
        found: list[TicketRef] = []
        if token:
            doc = await self.col.find_one(
                {"_id": token, "customer_id": {"$in": list(customer_ids)}}
            )
            if doc:
                found.append(_ref(doc, "token"))
        if thread_refs:
            cursor = (
                self.col.find({"email_message_ids": {"$in": list(thread_refs)}})
                .sort("created_at", DESCENDING)
                .limit(1)
            )
            found.extend([_ref(d, "email_thread") async for d in cursor])
        if conversation_key:
            cursor = (
                self.col.find({"conversation_keys": conversation_key})
                .sort("created_at", DESCENDING)
                .limit(1)
            )
            found.extend([_ref(d, "conversation") async for d in cursor])
        return found

    async def for_customers(
        self, customer_ids: Sequence[str], limit: int = 100
    ) -> list[TicketSnapshot]:
        cursor = (
            self.col.find({"customer_id": {"$in": list(customer_ids)}})
            .sort("created_at", DESCENDING)
            .limit(limit)
        )
        return [from_document(d).snapshot async for d in cursor]


def _ref(doc: Document, matched_by: str) -> TicketRef:
    state = from_document(doc)
    snap = state.snapshot
    last = max(d for d in (snap.updated_at, snap.last_customer_message_at) if d is not None)
    return TicketRef(
        snap.ticket_id, snap.customer_id, snap.status, last, snap.solved_at, matched_by
    )
