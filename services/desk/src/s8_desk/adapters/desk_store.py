"""The desk's read model in its own database: ticket cards, the conversation, the agents'
directory, customers and the notices of the live stream.

Every write tolerates a redelivery: a card takes a snapshot only if it is newer (`version`),
messages and offers are keyed by their ids, and a notice's id derives from the event that
caused it, so a replayed event stores no second notice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.operations import InsertOne

from s8_desk.domain.cards import ROUTING_KEPT, sla_order
from s8_desk.domain.notices import Due
from s8_shared.contracts import AgentProfile, MessageInfo, TicketSnapshot
from s8_shared.contracts.compensation import CompensationOffer
from s8_shared.contracts.desk import DeskClock, Notice, RoutingExplained, SlaStanding
from s8_shared.mongo import DUPLICATE_KEY, Document, IndexSpec, MongoStore
from s8_shared.pagination import PageRequest, find_page

CARDS, MESSAGES, NOTICES, AGENTS, CUSTOMERS = "cards", "messages", "notices", "agents", "customers"
COUNTERS = "counters"
CONVERSATION_LIMIT = 500  # messages a detail shows (the latest)


class DeskStore:
    INDEXES = (
        IndexSpec(CARDS, [("agent_id", ASCENDING), ("open", ASCENDING), ("sla_order", ASCENDING)]),
        IndexSpec(CARDS, [("team", ASCENDING), ("open", ASCENDING), ("sla_order", ASCENDING)]),
        IndexSpec(CARDS, [("open", ASCENDING), ("sla_order", ASCENDING)]),
        IndexSpec(CARDS, [("customer_id", ASCENDING)]),
        IndexSpec(CARDS, [("terms", ASCENDING)]),
        IndexSpec(CARDS, [("contacts", ASCENDING)]),
        IndexSpec(CARDS, [("pending_offers", ASCENDING), ("sla_order", ASCENDING)]),
        IndexSpec(MESSAGES, [("ticket_id", ASCENDING), ("sent_at", ASCENDING)]),
        IndexSpec(NOTICES, [("agent_id", ASCENDING), ("seq", ASCENDING)]),
        IndexSpec(NOTICES, [("seq", ASCENDING)], unique=True),
    )

    def __init__(self, store: MongoStore) -> None:
        self.cards = store.collection(CARDS)
        self.messages = store.collection(MESSAGES)
        self.notices = store.collection(NOTICES)
        self.agents = store.collection(AGENTS)
        self.customers = store.collection(CUSTOMERS)
        self.counters = store.collection(COUNTERS)

    # --- cards -------------------------------------------------------------------------
    async def card(self, ticket_id: str) -> Document | None:
        return await self.cards.find_one({"_id": ticket_id})

    async def apply_snapshot(
        self, snap: TicketSnapshot, fields: Mapping[str, Any], terms: Sequence[str]
    ) -> Document | None:
        """Stores a newer snapshot's fields (an older one changes nothing); the card before,
        None if it was new or the snapshot older."""
        extra: dict[str, Any] = {"terms": {"$each": list(terms)}}
        if snap.contact:
            extra["contacts"] = snap.contact
        try:
            return await self.cards.find_one_and_update(
                {"_id": snap.ticket_id, "version": {"$lt": snap.version}},
                {"$set": dict(fields), "$addToSet": extra, "$setOnInsert": _routing_defaults()},
                upsert=True,
                return_document=ReturnDocument.BEFORE,
            )
        except DuplicateKeyError:
            return None  # a newer snapshot is stored

    async def add_terms(self, ticket_id: str, terms: Sequence[str]) -> None:
        await self.cards.update_one(
            {"_id": ticket_id}, {"$addToSet": {"terms": {"$each": list(terms)}}}
        )

    async def set_holder(
        self, ticket_id: str, fields: Mapping[str, Any], decision: RoutingExplained
    ) -> Document | None:
        """Who holds the ticket now and why; the card before (a decision may come before
        the ticket's first event: the card then waits for its snapshot, `version` 0)."""
        return await self.cards.find_one_and_update(
            {"_id": ticket_id},
            {
                "$set": dict(fields),
                "$push": {
                    "routing": {
                        "$each": [decision.model_dump(mode="json")],
                        "$slice": -ROUTING_KEPT,
                    }
                },
                "$setOnInsert": {"version": 0, "open": False},
            },
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )

    async def set_clock(self, ticket_id: str, clock: DeskClock) -> Document:
        """The clock's latest state; the card after."""
        doc = await self.cards.find_one_and_update(
            {"_id": ticket_id},
            {
                "$set": {f"clocks.{_key(clock.clock_id)}": clock.model_dump(mode="json")},
                "$setOnInsert": {"version": 0, "open": False, **_routing_defaults()},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None  # an upsert always leaves a document
        return doc

    async def set_fields(self, ticket_id: str, fields: Mapping[str, Any]) -> None:
        await self.cards.update_one({"_id": ticket_id}, {"$set": dict(fields)})

    async def keep_offer(self, offer: CompensationOffer) -> None:
        # `pending_offers` lists the offers awaiting a lead, for the approvals view's index.
        pending = "$addToSet" if offer.status == "pending_approval" else "$pull"
        await self.cards.update_one(
            {"_id": offer.ticket_id},
            {
                "$set": {f"compensation.{_key(offer.offer_id)}": offer.model_dump(mode="json")},
                pending: {"pending_offers": offer.offer_id},
            },
        )

    async def page_cards(
        self, query: Mapping[str, Any], page: PageRequest
    ) -> tuple[list[Document], str | None]:
        return await find_page(self.cards, dict(query), "sla_order", page)

    async def count_cards(self, query: Mapping[str, Any]) -> int:
        return await self.cards.count_documents(dict(query))

    # --- conversation ------------------------------------------------------------------
    async def add_messages(self, ticket_id: str, messages: Sequence[MessageInfo]) -> None:
        ops = [
            InsertOne(
                {
                    "_id": f"{ticket_id}/{m.message_id}",
                    "ticket_id": ticket_id,
                    **m.model_dump(mode="json"),
                    "sent_at": m.sent_at,
                }
            )
            for m in messages
        ]
        if ops:
            await _insert_ignoring_duplicates(self.messages, ops)

    async def conversation(self, ticket_id: str) -> list[Document]:
        found = self.messages.find({"ticket_id": ticket_id}).sort("sent_at", -1)
        latest = [d async for d in found.limit(CONVERSATION_LIMIT)]
        return latest[::-1]

    # --- agents and customers ----------------------------------------------------------
    async def keep_agent(self, profile: AgentProfile) -> None:
        fields = {"team": profile.team, "lead": profile.lead, "name": profile.name, "presence": profile.presence.value}  # fmt: skip
        await self.agents.update_one({"_id": profile.agent_id}, {"$set": fields}, upsert=True)

    async def agent(self, agent_id: str) -> Document | None:
        return await self.agents.find_one({"_id": agent_id})

    async def leads(self, team: str | None) -> list[str]:
        query: dict[str, Any] = {"lead": True}
        if team:
            query["team"] = team
        return [d["_id"] async for d in self.agents.find(query, {"_id": 1})]

    async def keep_csat(self, customer_id: str, score: int, at: datetime) -> None:
        await self.customers.update_one(
            {"_id": customer_id, "csat_at": {"$not": {"$gt": at}}},
            {"$set": {"last_csat": score, "csat_at": at}},
            upsert=True,
        )

    async def customer(self, customer_id: str) -> Document | None:
        return await self.customers.find_one({"_id": customer_id})

    # --- notices -----------------------------------------------------------------------
    async def add_notices(self, source_id: str, due: Sequence[Due]) -> list[Notice]:
        """Stores the notices an event causes, each with the next places in the stream;
        none again for an event already noticed (`source_id`: the event's id)."""
        if not due or await self.notices.find_one({"_id": f"{source_id}/0"}, {"_id": 1}):
            return []
        counter = await self.counters.find_one_and_update(
            {"_id": NOTICES},
            {"$inc": {"seq": len(due)}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert counter is not None
        first = int(counter["seq"]) - len(due) + 1
        notices = [
            Notice(
                seq=first + i,
                agent_id=d.agent_id,
                kind=d.kind,
                ticket_id=d.ticket_id,
                at=d.at,
                deadline=d.deadline,
                detail=d.detail,
                event_id=source_id,
            )
            for i, d in enumerate(due)
        ]
        docs = [{"_id": f"{source_id}/{i}", **n.model_dump(mode="json"), "at": n.at} for i, n in enumerate(notices)]  # fmt: skip
        await _insert_ignoring_duplicates(self.notices, [InsertOne(d) for d in docs])
        return notices

    async def notices_for(self, agent_id: str, after: int, limit: int) -> list[Notice]:
        found = self.notices.find({"agent_id": agent_id, "seq": {"$gt": after}}).sort("seq", 1)
        return [Notice.model_validate(d) async for d in found.limit(limit)]

    async def notices_since(self, after: int, limit: int) -> list[Notice]:
        found = self.notices.find({"seq": {"$gt": after}}).sort("seq", 1)
        return [Notice.model_validate(d) async for d in found.limit(limit)]

    async def last_seq(self) -> int:
        counter = await self.counters.find_one({"_id": NOTICES})
        return int(counter["seq"]) if counter else 0


def _routing_defaults() -> dict[str, Any]:
    no_clock = sla_order(SlaStanding.NONE, None)
    return {"agent_id": None, "queued": False, "sla": "none", "sla_order": no_clock, "routing": []}


def _key(value: str) -> str:
    """A map key the store accepts (no dots, no leading $)."""
    return value.replace(".", "_").replace("$", "_")


async def _insert_ignoring_duplicates(col: Any, ops: list[InsertOne[Document]]) -> None:
    try:
        await col.bulk_write(ops, ordered=False)
    except BulkWriteError as exc:
        if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
            raise
