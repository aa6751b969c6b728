"""MongoDB helpers: client lifecycle, declared indexes, and the idempotency store.

Only features both MongoDB 7/8 and the local mongo-java-server have are used: no
multi-document transactions and no TTL indexes (old data is purged explicitly).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError
from pymongo.monitoring import CommandListener

from s8_shared.contracts.envelope import utcnow

Document = dict[str, Any]


@dataclass(frozen=True)
class IndexSpec:
    """An index declared next to the repository that needs it; created at start."""

    collection: str
    keys: Sequence[tuple[str, int]]
    unique: bool = False
    name: str | None = None

    def index_name(self) -> str:
        return self.name or "_".join(f"{field}_{order}" for field, order in self.keys)


# Longer than any query s8 makes (a KPI aggregation over 200,000 tickets on the local store
# takes a few seconds).
STORE_REPLY_TIMEOUT_MS = 60_000


class MongoStore:
    """One client per process and event loop; each service uses its own database."""

    def __init__(
        self,
        uri: str,
        database: str,
        *,
        app_name: str,
        listeners: Sequence[CommandListener] = (),
    ) -> None:
        """`listeners` watch every command of this client (spans and latency, see
        `observability.mongo.MongoCommandMonitor`)."""
        self.client: AsyncMongoClient[Document] = AsyncMongoClient(
            uri,
            tz_aware=True,
            serverSelectionTimeoutMS=5000,
            connectTimeoutMS=5000,
            # A reply the store never sends (a dropped connection, a crashed command) fails the
            # operation, and the message is retried, instead of freezing its handler for good.
            socketTimeoutMS=STORE_REPLY_TIMEOUT_MS,
            appname=app_name,
            event_listeners=list(listeners),
            # Every write is acknowledged only once journaled: s8's outbox, idempotency keys
            # and clocks are promises that a crash of the store must not undo.
            journal=True,
        )
        self.db: AsyncDatabase[Document] = self.client[database]

    def collection(self, name: str) -> AsyncCollection[Document]:
        return self.db[name]

    async def ping(self) -> bool:
        try:
            await self.client.admin.command("ping")
        except Exception:
            return False
        return True

    async def ensure_indexes(self, specs: Iterable[IndexSpec]) -> None:
        for spec in specs:
            await self.db[spec.collection].create_index(
                list(spec.keys), unique=spec.unique, name=spec.index_name()
            )

    async def close(self) -> None:
        await self.client.close()


DUPLICATE_KEY = 11000


class ProcessedEvents:
    """Remembers which event ids a consumer has already applied.

    Check with `seen()` before applying, `remember()` after the effect is stored: a crash
    in between replays the effect, so effects themselves are written idempotently
    (upserts keyed by deterministic ids).
    """

    COLLECTION = "processed_events"
    INDEXES = (IndexSpec(COLLECTION, [("processed_at", ASCENDING)]),)

    def __init__(self, store: MongoStore) -> None:
        self.col = store.collection(self.COLLECTION)

    async def seen(self, event_id: object) -> bool:
        return await self.col.find_one({"_id": str(event_id)}, projection={"_id": 1}) is not None

    async def remember(self, event_id: object, **details: Any) -> bool:
        """True the first time; False when the id was already remembered."""
        try:
            await self.col.insert_one({"_id": str(event_id), "processed_at": utcnow(), **details})
        except DuplicateKeyError:
            return False
        return True

    async def seen_among(self, event_ids: Sequence[str]) -> set[str]:
        """Those of `event_ids` already remembered: one command for a batch."""
        if not event_ids:
            return set()
        cursor = self.col.find({"_id": {"$in": list(event_ids)}}, projection={"_id": 1})
        return {doc["_id"] async for doc in cursor}

    async def remember_all(self, applied: Sequence[tuple[str, str]]) -> None:
        """Remembers (event id, type) pairs in one command; ids already there stay as they were."""
        if not applied:
            return
        now = utcnow()
        docs = [{"_id": event_id, "processed_at": now, "type": kind} for event_id, kind in applied]
        try:
            await self.col.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            # Only duplicates (another replica or an earlier delivery got there) are expected.
            if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                raise

    async def purge_older_than(self, age: timedelta, *, now: datetime | None = None) -> int:
        cutoff = (now or utcnow()) - age
        result = await self.col.delete_many({"processed_at": {"$lt": cutoff}})
        return result.deleted_count
