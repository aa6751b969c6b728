"""Problems, their outreach jobs and the proactive contacts sent for them, in Mongo.

A problem document holds its snapshot and an outbox (same idea as tickets). Each notice
is one `proactive_contacts` document whose id is (problem, update, customer): inserting it
is the claim, so a redelivery, a retry or a second replica never sends it twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from s8_intake.adapters.outbox import Outbox, OutboxItem, outbox_item
from s8_intake.domain.outreach import IdPage
from s8_shared.contracts import Event
from s8_shared.contracts.problems import NoticeKind, ProblemSnapshot, ProblemStatus
from s8_shared.mongo import Document, IndexSpec, MongoStore
from s8_shared.pagination import PageRequest, find_page

PROBLEMS = "problems"
OUTREACH = "problem_outreach"
CONTACTS = "proactive_contacts"


def _snapshot_doc(problem: ProblemSnapshot) -> Document:
    return problem.model_dump(mode="python")


def _snapshot(doc: Document) -> ProblemSnapshot:
    return ProblemSnapshot.model_validate(doc["problem"])


OPEN_PROBLEMS_FRESH_SECONDS = 1.0


class ProblemStore:
    INDEXES = (
        IndexSpec(PROBLEMS, [("status", ASCENDING)]),
        IndexSpec(PROBLEMS, [("has_outbox", ASCENDING)]),
        IndexSpec(OUTREACH, [("state", ASCENDING), ("lease_until", ASCENDING)]),
        IndexSpec(CONTACTS, [("customer_id", ASCENDING), ("at", DESCENDING)]),
        IndexSpec(CONTACTS, [("problem_id", ASCENDING), ("customer_id", ASCENDING)]),
        IndexSpec(CONTACTS, [("published", ASCENDING)]),
    )

    def __init__(
        self,
        store: MongoStore,
        *,
        open_fresh_seconds: float = OPEN_PROBLEMS_FRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.open_fresh_seconds = open_fresh_seconds
        self.monotonic = monotonic
        self._open: tuple[float, list[ProblemSnapshot]] | None = None
        self._generation = 0  # bumped by every change of a problem made here
        self.problems = store.collection(PROBLEMS)
        self.outreach = store.collection(OUTREACH)
        self.contacts = store.collection(CONTACTS)
        self.outbox = Outbox(self.problems)

    # --- problems ---------------------------------------------------------------------
    async def load(self, problem_id: str) -> tuple[ProblemSnapshot, frozenset[str]] | None:
        doc = await self.problems.find_one({"_id": problem_id})
        if doc is None:
            return None
        return _snapshot(doc), frozenset(doc.get("applied", ()))

    async def insert(
        self, problem: ProblemSnapshot, applied_key: str, events: Sequence[Event[Any]]
    ) -> bool:
        items = [outbox_item(e).__dict__ for e in events]
        try:
            await self.problems.insert_one(
                {
                    "_id": problem.problem_id,
                    "problem": _snapshot_doc(problem),
                    "status": problem.status.value,
                    "applied": [applied_key],
                    "outbox": items,
                    "has_outbox": bool(items),
                }
            )
        except DuplicateKeyError:
            return False
        self._changed()
        return True

    async def update(
        self,
        problem: ProblemSnapshot,
        expected_seq: int,
        applied_key: str,
        events: Sequence[Event[Any]],
    ) -> bool:
        """Compare-and-set on the update sequence; False when someone changed it first."""
        items = [outbox_item(e).__dict__ for e in events]
        result = await self.problems.update_one(
            {
                "_id": problem.problem_id,
                "problem.update_seq": expected_seq,
                "applied": {"$ne": applied_key},
            },
            {
                "$set": {
                    "problem": _snapshot_doc(problem),
                    "status": problem.status.value,
                    "has_outbox": True,
                },
                "$push": {"applied": applied_key, "outbox": {"$each": items}},
            },
        )
        self._changed()
        return result.modified_count == 1

    async def open_problems(self) -> list[ProblemSnapshot]:
        """The problems not yet resolved: every new ticket is matched against them, so they
        are read at most once per `open_fresh_seconds` (a change made here is seen at once;
        one made by another replica within that time)."""
        now = self.monotonic()
        if self._open is not None and now - self._open[0] < self.open_fresh_seconds:
            return list(self._open[1])
        generation = self._generation
        cursor = self.problems.find({"status": {"$ne": ProblemStatus.RESOLVED.value}})
        found = [_snapshot(d) async for d in cursor]
        if generation == self._generation:  # no change of ours raced the read
            self._open = (now, found)
        return list(found)

    def _changed(self) -> None:
        self._generation += 1
        self._open = None

    async def page(
        self, status: ProblemStatus | None, page: PageRequest
    ) -> tuple[list[ProblemSnapshot], str | None]:
        """Newest first, one page."""
        query = {"status": status.value} if status else {}
        docs, more = await find_page(self.problems, query, "problem.declared_at", page, descending=True)  # fmt: skip
        return [_snapshot(d) for d in docs], more

    async def outbox_items(self, problem_id: str) -> list[OutboxItem]:
        return await self.outbox.items(problem_id)

    async def remove_from_outbox(self, problem_id: str, event_ids: Sequence[str]) -> None:
        await self.outbox.remove(problem_id, event_ids)

    async def with_outbox(self, limit: int = 100) -> list[str]:
        return await self.outbox.pending(limit)

    # --- outreach jobs: one per problem update that notifies ---------------------------
    async def add_job(
        self, problem_id: str, update_seq: int, notice: NoticeKind, notify: bool
    ) -> None:
        await self.outreach.update_one(
            {"_id": f"{problem_id}:{update_seq}"},
            {
                "$setOnInsert": {
                    "problem_id": problem_id,
                    "update_seq": update_seq,
                    "notice": notice,
                    "notify": notify,
                    "state": "pending",
                    "cursor": "",
                    "lease_until": datetime(1970, 1, 1),
                    "sent": 0,
                    "unreachable": 0,
                }
            },
            upsert=True,
        )

    async def claim_job(self, owner: str, now: datetime, lease: timedelta) -> Document | None:
        """One pending job, leased to this replica so two replicas do not run it at once."""
        return await self.outreach.find_one_and_update(
            {"state": "pending", "lease_until": {"$lt": now}},
            {"$set": {"lease_until": now + lease, "owner": owner}},
            sort=[("update_seq", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )

    async def advance_job(
        self, job_id: str, owner: str, cursor: str, sent: int, unreachable: int, done: bool
    ) -> None:
        update: dict[str, Any] = {
            "$set": {"cursor": cursor, "state": "done" if done else "pending"},
            "$inc": {"sent": sent, "unreachable": unreachable},
        }
        if not done:
            update["$set"]["lease_until"] = datetime(1970, 1, 1)
        await self.outreach.update_one({"_id": job_id, "owner": owner}, update)

    async def mark_incidents_solved(self, job_id: str) -> None:
        await self.outreach.update_one({"_id": job_id}, {"$set": {"incidents_solved": True}})

    async def jobs_of(self, problem_id: str) -> list[Document]:
        cursor = self.outreach.find({"problem_id": problem_id}, projection={"lease_until": 0})
        return [d async for d in cursor.sort("update_seq", ASCENDING)]

    # --- proactive contacts ------------------------------------------------------------
    async def claim_contact(self, contact: Document) -> bool:
        """False when this notice was recorded before (it is never sent twice)."""
        try:
            await self.contacts.insert_one({**contact, "published": False})
        except DuplicateKeyError:
            return False
        return True

    async def unpublished_contacts(self, older_than: datetime, limit: int = 200) -> list[Document]:
        cursor = self.contacts.find({"published": False, "at": {"$lt": older_than}}).limit(limit)
        return [d async for d in cursor]

    async def mark_published(self, contact_id: str) -> None:
        await self.contacts.update_one({"_id": contact_id}, {"$set": {"published": True}})

    async def notified_customers(self, problem_id: str, after: str, limit: int) -> IdPage:
        """Customers told about the problem before, in id order after `after`."""
        cursor = (
            self.contacts.find(
                {"problem_id": problem_id, "customer_id": {"$gt": after}},
                projection={"customer_id": 1},
            )
            .sort("customer_id", ASCENDING)
            .limit(limit)
        )
        docs = [d async for d in cursor]
        return IdPage(list(dict.fromkeys(d["customer_id"] for d in docs)), len(docs) < limit)

    async def contacts_of_customers(
        self, customer_ids: Sequence[str], limit: int = 50
    ) -> list[Document]:
        cursor = (
            self.contacts.find(
                {"customer_id": {"$in": list(customer_ids)}}, projection={"published": 0}
            )
            .sort("at", DESCENDING)
            .limit(limit)
        )
        return [d async for d in cursor]

    async def contact_counts(self, problem_id: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        async for d in self.contacts.find({"problem_id": problem_id}, projection={"notice": 1}):
            counts[d["notice"]] = counts.get(d["notice"], 0) + 1
        return counts
