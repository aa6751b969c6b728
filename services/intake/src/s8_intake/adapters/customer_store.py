"""Customers and the identities that point at them; merges are recorded so they can be undone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from s8_intake.adapters.candidate_links import CandidateLinks
from s8_intake.adapters.customer_merges import CUSTOMERS, IDENTITIES, CustomerMerges, MergeNotFound
from s8_intake.adapters.identity_suggestions import (
    UNCLAIMED,
    IdentitySuggestions,
    SuggestionClosed,
    SuggestionNotFound,
)
from s8_intake.domain.candidates import Candidate
from s8_intake.domain.customers import KnownCustomer, Resolution, identity_key, resolve
from s8_intake.domain.outreach import IdPage
from s8_intake.domain.problems import CustomerFacts, affects
from s8_shared.contracts import CustomerTier, Identity, Language
from s8_shared.contracts.problems import ProblemSegment
from s8_shared.mongo import Document, IndexSpec, MongoStore

__all__ = [
    "CustomerStore",
    "MergeNotFound",
    "ResolvedCustomer",
    "SuggestionClosed",
    "SuggestionNotFound",
]


@dataclass(frozen=True)
class _Known:
    owners: dict[str, KnownCustomer]
    docs: dict[str, Document]
    merged: dict[str, list[str]]  # customers merged into each owner
    separated: frozenset[str]  # pairs of owners whose merge was undone
    asserted: dict[str, list[Document]]  # who asserted each identity nobody owned yet

    def related(self, resolution: Resolution) -> list[str]:
        """The customer, those it absorbs now and those merged into it before (a customer
        kept apart by an undone merge is not one of them)."""
        cid = resolution.customer_id
        return sorted({cid, *resolution.merged_customer_ids} | set(self.merged.get(cid, ())))


@dataclass(frozen=True)
class ResolvedCustomer:
    doc: Document
    # The customer, the identities' earlier owners and the customers merged into it:
    # whose tickets a message may continue.
    related_ids: list[str]
    created: bool
    # Who asserted, before, the identities this message claimed now (other customers'
    # contact fields or texts naming this sender's address): the merges it suggests.
    asserted: tuple[Document, ...] = ()

    @property
    def customer_id(self) -> str:
        return str(self.doc["_id"])


class CustomerStore:
    INDEXES = (
        IndexSpec(IDENTITIES, [("customer_id", ASCENDING)]),
        IndexSpec(CUSTOMERS, [("merged_into", ASCENDING)]),
        *CustomerMerges.INDEXES,
        *IdentitySuggestions.INDEXES,
    )

    def __init__(self, store: MongoStore) -> None:
        self.customers = store.collection(CUSTOMERS)
        self.identities = store.collection(IDENTITIES)
        self.merges = CustomerMerges(store)
        self.suggestions = IdentitySuggestions(store)
        self.links = CandidateLinks(self, self.merges, self.suggestions)

    async def owners(self, identities: Sequence[Identity]) -> dict[str, KnownCustomer]:
        return (await self._known(identities)).owners

    async def _known(self, identities: Sequence[Identity]) -> _Known:
        """Who owns these identities, with their documents and the customers merged into
        them: one read (the identities joined with their customers)."""
        keys = [identity_key(i) for i in identities]
        pipeline: list[dict[str, Any]] = [
            {"$match": {"_id": {"$in": keys}}},
            {"$lookup": _join("customer_id", "_id", "customer")},
            {"$lookup": _join("customer_id", "merged_into", "merged")},
        ]
        docs: dict[str, Document] = {}
        merged: dict[str, list[str]] = {}
        links: dict[str, str] = {}
        asserted: dict[str, list[Document]] = {}
        async for link in await self.identities.aggregate(pipeline):
            if link.get("customer_id") == UNCLAIMED:
                identity = Identity(kind=link["kind"], value=link["value"])
                asserted[link["_id"]] = [
                    {**a, "identity": identity} for a in link.get("asserted_by") or []
                ]
                continue
            cid = link["customer_id"]
            links[link["_id"]] = cid
            for customer in link["customer"]:
                docs[cid] = customer
            merged[cid] = sorted(m["_id"] for m in link["merged"])
        owners = {
            key: KnownCustomer(cid, docs[cid]["created_at"])
            for key, cid in links.items()
            if cid in docs
        }
        separated = await self.merges.separated([o.customer_id for o in owners.values()])
        return _Known(owners, docs, merged, separated, asserted)

    async def resolve(
        self, identities: Sequence[Identity], now: datetime, source: str
    ) -> ResolvedCustomer:
        """The customer behind these identities, created, extended or merged as needed,
        with every customer id a conversation of theirs may be filed under."""
        for _ in range(5):
            known = await self._known(identities)
            resolution = resolve(identities, known.owners, known.separated)
            cid = resolution.customer_id
            doc = known.docs.get(cid)
            if doc is not None and not resolution.new_identities and not resolution.is_merge:
                return ResolvedCustomer(doc, known.related(resolution), created=False)
            created = False
            if doc is None:
                doc, created = await self._ensure(cid, now)
            if await self._claim(resolution, now):
                if resolution.is_merge:
                    await self.merges.merge(cid, resolution.merged_customer_ids, now, source)
                related = known.related(resolution)
                if cid not in known.docs and not created:
                    # Created meanwhile by someone else: who was merged into it is unknown.
                    related = sorted({*related, *await self.merged_into(cid)})
                claimed = {identity_key(i) for i in resolution.new_identities}
                asserted = tuple(
                    a
                    for key, by in known.asserted.items()
                    if key in claimed
                    for a in by
                    if a.get("customer_id") not in related
                )
                return ResolvedCustomer(doc, related, created, asserted)
        raise RuntimeError("identity resolution kept racing; will be retried")

    async def _ensure(self, customer_id: str, now: datetime) -> tuple[Document, bool]:
        """The customer's document and whether this call created it (one round trip)."""
        fields = {
            # As the store keeps it (milliseconds), so the document equals one read back.
            "created_at": now.replace(microsecond=now.microsecond // 1000 * 1000),
            "tier": CustomerTier.STANDARD.value,
            "merged_into": None,
        }
        before = await self.customers.find_one_and_update(
            {"_id": customer_id},
            {"$setOnInsert": fields},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
        return (before, False) if before is not None else ({"_id": customer_id, **fields}, True)

    async def _claim(self, resolution: Resolution, now: datetime) -> bool:
        for identity in resolution.new_identities:
            try:  # new, or only asserted so far (its record of who asserted it is kept)
                await self.identities.update_one(
                    {"_id": identity_key(identity), "customer_id": UNCLAIMED},
                    {
                        "$set": {
                            "kind": identity.kind,
                            "value": identity.value,
                            "customer_id": resolution.customer_id,
                            "since": now,
                        }
                    },
                    upsert=True,
                )
            except DuplicateKeyError:
                return False  # another message claimed it first: resolve again
        return True

    async def get(self, customer_id: str) -> Document | None:
        return await self.customers.find_one({"_id": customer_id})

    async def identities_of(self, customer_ids: Sequence[str]) -> list[Identity]:
        cursor = self.identities.find({"customer_id": {"$in": list(customer_ids)}})
        return [Identity(kind=d["kind"], value=d["value"]) async for d in cursor]

    async def merged_into(self, customer_id: str) -> list[str]:
        return [
            d["_id"]
            async for d in self.customers.find({"merged_into": customer_id}, projection={"_id": 1})
        ]

    async def merges_of(self, customer_id: str) -> list[Document]:
        return await self.merges.merges_of(customer_id)

    async def undo_merge(self, merge_id: str, now: datetime, by: str) -> Document:
        return await self.merges.undo(merge_id, now, by)

    async def note_candidates(
        self,
        customer: ResolvedCustomer,
        asserted: Sequence[Candidate],
        *,
        channel: str,
        source: str,
        now: datetime,
    ) -> list[str]:
        return await self.links.note(
            customer.customer_id,
            customer.related_ids,
            customer.asserted,
            asserted,
            channel=channel,
            source=source,
            now=now,
        )

    async def suggestions_of(self, customer_ids: Sequence[str]) -> list[Document]:
        return await self.suggestions.of_customers(customer_ids)

    async def confirm_suggestion(self, suggestion_id: str, now: datetime, by: str) -> Document:
        return await self.links.confirm(suggestion_id, now, by)

    async def dismiss_suggestion(self, suggestion_id: str, now: datetime, by: str) -> Document:
        return await self.suggestions.close(suggestion_id, "dismissed", by, now)

    async def confirm_proven(
        self, customer_ids: tuple[str, str], proven: Sequence[Identity], now: datetime, by: str
    ) -> bool:
        return await self.links.confirm_proven(customer_ids, proven, now, by)

    async def facts(self, customer_id: str) -> CustomerFacts:
        """What segment matching needs to know about a customer."""
        doc = await self.customers.find_one({"_id": customer_id})
        return customer_facts(doc or {"_id": customer_id})

    async def profiles(self, customer_ids: Sequence[str]) -> dict[str, Document]:
        return {
            d["_id"]: d async for d in self.customers.find({"_id": {"$in": list(customer_ids)}})
        }

    async def identities_by_customer(
        self, customer_ids: Sequence[str]
    ) -> dict[str, list[Identity]]:
        found: dict[str, list[Identity]] = {}
        async for d in self.identities.find({"customer_id": {"$in": list(customer_ids)}}):
            found.setdefault(d["customer_id"], []).append(
                Identity(kind=d["kind"], value=d["value"])
            )
        return found

    async def segment_page(self, segment: ProblemSegment, after: str, size: int) -> IdPage:
        """The next `size` customers of a problem's segment in id order after `after`; the
        customers are read only as far as that needs."""
        found: list[str] = []
        async for facts in self.live_customers(after=after):
            if affects(segment, facts):
                found.append(facts.customer_id)
                if len(found) >= size:
                    return IdPage(found, complete=False)
        return IdPage(found, complete=True)

    async def live_customers(self, after: str = "") -> AsyncIterator[CustomerFacts]:
        """Customers not merged away, in id order, after the id `after`."""
        cursor = self.customers.find(
            {"merged_into": None, "_id": {"$gt": after}},
            projection={"tier": 1, "region": 1, "products": 1, "language": 1},
        ).sort("_id", ASCENDING)
        async for doc in cursor:
            yield customer_facts(doc)

    async def update_profile(self, customer_id: str, fields: dict[str, Any]) -> None:
        if fields:
            await self.customers.update_one({"_id": customer_id}, {"$set": fields})


def _join(local: str, foreign: str, into: str) -> dict[str, str]:
    return {"from": CUSTOMERS, "localField": local, "foreignField": foreign, "as": into}


def customer_facts(doc: Document) -> CustomerFacts:
    return CustomerFacts(
        customer_id=doc["_id"],
        tier=CustomerTier(doc.get("tier") or "standard"),
        region=doc.get("region"),
        products=tuple(doc.get("products") or ()),
        language=Language(doc["language"]) if doc.get("language") else None,
    )
