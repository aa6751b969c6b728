"""Merging customers and undoing it: each merge records what it moved, so an undo puts
exactly that back, and the pair stays separated (no later message merges it again)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING

from s8_intake.domain.customers import merge_id, pair_key
from s8_shared.mongo import Document, IndexSpec, MongoStore

CUSTOMERS = "customers"
IDENTITIES = "identities"
MERGES = "customer_merges"
SEPARATIONS = "customer_separations"


class MergeNotFound(LookupError):
    pass


class CustomerMerges:
    INDEXES = (IndexSpec(MERGES, [("survivor", ASCENDING)]),)

    def __init__(self, store: MongoStore) -> None:
        self.customers = store.collection(CUSTOMERS)
        self.identities = store.collection(IDENTITIES)
        self.merges = store.collection(MERGES)
        self.separations = store.collection(SEPARATIONS)

    async def separated(self, customer_ids: Sequence[str]) -> frozenset[str]:
        """The pairs among these customers whose merge was undone (`pair_key`s)."""
        ids = sorted(set(customer_ids))
        if len(ids) < 2:
            return frozenset()
        pairs = [pair_key(a, b) for n, a in enumerate(ids) for b in ids[n + 1 :]]
        found = self.separations.find({"_id": {"$in": pairs}}, projection={"_id": 1})
        return frozenset([d["_id"] async for d in found])

    async def merge(self, survivor: str, merged: Sequence[str], now: datetime, source: str) -> str:
        """Moves the merged customers' identities to the survivor; the id is the same when
        the same source (a redelivered message) repeats it, so it is recorded once."""
        merged = list(merged)
        # Identity keys contain dots (emails): stored as values, never as field names.
        moved = [
            {"identity": d["_id"], "customer_id": d["customer_id"]}
            async for d in self.identities.find({"customer_id": {"$in": merged}})
        ]
        mid = merge_id(survivor, merged, source)
        await self.merges.update_one(
            {"_id": mid},
            {
                "$setOnInsert": {
                    "survivor": survivor,
                    "merged": merged,
                    "identities": moved,
                    "at": now,
                    "source": source,
                    "undone_at": None,
                }
            },
            upsert=True,
        )
        await self.identities.update_many(
            {"_id": {"$in": [m["identity"] for m in moved]}}, {"$set": {"customer_id": survivor}}
        )
        await self.customers.update_many(
            {"_id": {"$in": merged}}, {"$set": {"merged_into": survivor}}
        )
        return mid

    async def undo(self, merge_id_: str, now: datetime, by: str) -> Document:
        merge = await self.merges.find_one({"_id": merge_id_})
        if merge is None:
            raise MergeNotFound(merge_id_)
        if merge.get("undone_at") is None:
            # Separated first: a message arriving meanwhile must not merge them again.
            for other in merge["merged"]:
                key = pair_key(merge["survivor"], other)
                await self.separations.update_one(
                    {"_id": key},
                    {"$setOnInsert": {"merge_id": merge_id_, "at": now, "by": by}},
                    upsert=True,
                )
            # Each moved identity goes back to the customer it came from.
            for moved in merge["identities"]:
                await self.identities.update_one(
                    {"_id": moved["identity"]}, {"$set": {"customer_id": moved["customer_id"]}}
                )
            await self.customers.update_many(
                {"_id": {"$in": merge["merged"]}}, {"$set": {"merged_into": None}}
            )
            await self.merges.update_one(
                {"_id": merge_id_}, {"$set": {"undone_at": now, "undone_by": by}}
            )
            merge.update(undone_at=now, undone_by=by)
        return merge

    async def merges_of(self, customer_id: str) -> list[Document]:
        return [d async for d in self.merges.find({"survivor": customer_id})]
