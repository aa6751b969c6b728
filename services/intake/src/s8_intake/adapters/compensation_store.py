"""Compensation offers and per-agent period ledgers in Mongo.

One document per offer (id = the action id; inserted only if absent, so a redelivered
action is applied once), carrying an outbox (`adapters.outbox`, as tickets do): an offer and the event it must
publish are written in one document write, published, then removed from the outbox; a
crash in between leaves them for the sweeper.

One ledger document per (agent, period). A grant reserves its amount with ONE conditional
update (`total <= cap - amount` and the offer not yet in `offers`), so replicas racing
the cap can never push the total over it, and a redelivery never counts twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from s8_intake.adapters.outbox import Outbox, OutboxItem, outbox_item
from s8_shared.contracts import Event
from s8_shared.contracts.compensation import CompensationOffer, OfferStatus
from s8_shared.mongo import Document, IndexSpec, MongoStore
from s8_shared.pagination import PageRequest, find_page

OFFERS = "compensation_offers"
LEDGERS = "compensation_ledgers"


@dataclass(frozen=True)
class Ledger:
    agent_id: str
    period: str
    total: int
    offer_ids: tuple[str, ...]


def _offer(doc: Document) -> CompensationOffer:
    return CompensationOffer.model_validate(doc)


def _ledger_id(agent_id: str, period: str) -> str:
    return f"{agent_id}|{period}"


class CompensationStore:
    INDEXES = (
        IndexSpec(OFFERS, [("ticket_id", ASCENDING), ("offered_at", ASCENDING)]),
        IndexSpec(OFFERS, [("status", ASCENDING), ("offered_at", ASCENDING)]),
        IndexSpec(OFFERS, [("has_outbox", ASCENDING)]),
        IndexSpec(LEDGERS, [("agent_id", ASCENDING), ("period", DESCENDING)]),
    )

    def __init__(self, store: MongoStore) -> None:
        self.offers = store.collection(OFFERS)
        self.ledgers = store.collection(LEDGERS)
        self._outbox = Outbox(self.offers)

    # --- offers -----------------------------------------------------------------------
    async def get(self, offer_id: str) -> CompensationOffer | None:
        doc = await self.offers.find_one({"_id": offer_id})
        return _offer(doc) if doc else None

    async def insert(self, offer: CompensationOffer, events: Sequence[Event[Any]]) -> bool:
        """False when the offer exists already (a redelivery or a racing replica)."""
        items = [outbox_item(e).__dict__ for e in events]
        doc = {
            **offer.model_dump(mode="python"),
            "_id": offer.offer_id,
            "outbox": items,
            "has_outbox": bool(items),
        }
        try:
            await self.offers.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def decide(
        self, offer: CompensationOffer, expected: OfferStatus, events: Sequence[Event[Any]]
    ) -> bool:
        """Compare-and-set on the status; False when someone decided first."""
        items = [outbox_item(e).__dict__ for e in events]
        fields = offer.model_dump(mode="python")
        result = await self.offers.update_one(
            {"_id": offer.offer_id, "status": expected},
            {"$set": {**fields, "has_outbox": True}, "$push": {"outbox": {"$each": items}}},
        )
        return result.modified_count == 1

    async def for_ticket(self, ticket_id: str) -> list[CompensationOffer]:
        cursor = self.offers.find({"ticket_id": ticket_id}).sort("offered_at", ASCENDING)
        return [_offer(d) async for d in cursor]

    async def with_status(self, status: OfferStatus, limit: int = 200) -> list[CompensationOffer]:
        cursor = self.offers.find({"status": status}).sort("offered_at", ASCENDING).limit(limit)
        return [_offer(d) async for d in cursor]

    async def page(
        self, query: dict[str, str], page: PageRequest
    ) -> tuple[list[CompensationOffer], str | None]:
        """Offers matching `query` (status, ticket), oldest first, one page."""
        docs, more = await find_page(self.offers, query, "offered_at", page)
        return [_offer(d) for d in docs], more

    async def many(self, offer_ids: Sequence[str]) -> list[CompensationOffer]:
        cursor = self.offers.find({"_id": {"$in": list(offer_ids)}}).sort("offered_at", ASCENDING)
        return [_offer(d) async for d in cursor]

    async def outbox(self, offer_id: str) -> list[OutboxItem]:
        return await self._outbox.items(offer_id)

    async def remove_from_outbox(self, offer_id: str, event_ids: Sequence[str]) -> None:
        await self._outbox.remove(offer_id, event_ids)

    async def with_outbox(self, limit: int = 100) -> list[str]:
        return await self._outbox.pending(limit)

    async def ledger(self, agent_id: str, period: str) -> Ledger:
        doc = await self.ledgers.find_one({"_id": _ledger_id(agent_id, period)}) or {}
        return Ledger(agent_id, period, int(doc.get("total", 0)), tuple(doc.get("offers", ())))

    async def reserve(
        self, agent_id: str, period: str, offer_id: str, amount: int, cap: int
    ) -> bool:
        """Adds `amount` if the total stays within `cap`; True also when this offer was
        reserved before (a redelivery after a crash)."""
        ledger_id = _ledger_id(agent_id, period)
        await self._ensure(ledger_id, agent_id, period)
        result = await self.ledgers.update_one(
            {"_id": ledger_id, "total": {"$lte": cap - amount}, "offers": {"$ne": offer_id}},
            {"$inc": {"total": amount}, "$push": {"offers": offer_id}},
        )
        if result.modified_count == 1:
            return True
        return offer_id in (await self.ledger(agent_id, period)).offer_ids

    async def add(self, agent_id: str, period: str, offer_id: str, amount: int) -> None:
        """Counts an approved offer in the agent's total, beyond the cap (a lead said so);
        once per offer."""
        ledger_id = _ledger_id(agent_id, period)
        await self._ensure(ledger_id, agent_id, period)
        await self.ledgers.update_one(
            {"_id": ledger_id, "offers": {"$ne": offer_id}},
            {"$inc": {"total": amount}, "$push": {"offers": offer_id}},
        )

    async def _ensure(self, ledger_id: str, agent_id: str, period: str) -> None:
        # A racing replica may create it first: the unique _id refuses the second insert.
        with contextlib.suppress(DuplicateKeyError):
            await self.ledgers.update_one(
                {"_id": ledger_id},
                {
                    "$setOnInsert": {
                        "agent_id": agent_id,
                        "period": period,
                        "total": 0,
                        "offers": [],
                    }
                },
                upsert=True,
            )
