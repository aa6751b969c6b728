"""The latest ticket snapshot as seen by a downstream service, in its own database.

Events may arrive twice or out of order (a crash recovery re-publishes, a rebalance
replays): a snapshot with a lower `version` never overwrites a higher one.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.errors import DuplicateKeyError

from s8_shared.batched_writes import BatchedWrites
from s8_shared.contracts import TicketSnapshot
from s8_shared.mongo import Document, IndexSpec, MongoStore


class TicketProjection:
    COLLECTION = "tickets"
    INDEXES = (
        IndexSpec(COLLECTION, [("status", ASCENDING), ("priority", ASCENDING)]),
        IndexSpec(COLLECTION, [("created_at", ASCENDING)]),
    )

    def __init__(self, store: MongoStore) -> None:
        self.col = store.collection(self.COLLECTION)
        self.writes = BatchedWrites(self.col)

    async def apply(self, snapshot: TicketSnapshot, event_type: str) -> bool:
        """Stores the snapshot unless a newer version is stored; True if it was stored."""
        try:
            result = await self.col.update_one(*_stored(snapshot, event_type), upsert=True)
        except DuplicateKeyError:
            # A newer snapshot is stored: the filter missed and the upsert hit the _id.
            return False
        return result.modified_count > 0 or result.upserted_id is not None

    def queue(self, snapshot: TicketSnapshot, event_type: str) -> None:
        """As `apply`, written with the other snapshots of the batch of events being applied
        (`writes.flush`, the batch subscriber's flush)."""
        self.writes.add(UpdateOne(*_stored(snapshot, event_type), upsert=True))

    async def get(self, ticket_id: str) -> TicketSnapshot | None:
        doc = await self.col.find_one({"_id": ticket_id})
        return (
            None if doc is None else TicketSnapshot.model_validate({**doc, "ticket_id": doc["_id"]})
        )

    async def count_by(self, field: str, match: dict[str, Any] | None = None) -> dict[str, int]:
        pipeline: list[dict[str, Any]] = []
        if match:
            pipeline.append({"$match": match})
        pipeline.append({"$group": {"_id": f"${field}", "n": {"$sum": 1}}})
        cursor = await self.col.aggregate(pipeline)
        return {str(row["_id"]): int(row["n"]) async for row in cursor}


def _stored(snapshot: TicketSnapshot, event_type: str) -> tuple[Document, Document]:
    """Filter and update that store the snapshot unless a newer version is stored (then the
    filter misses and the upsert collides with the _id)."""
    doc = snapshot.model_dump(mode="python")
    doc.pop("ticket_id")
    doc.update(last_event=event_type)
    return {"_id": snapshot.ticket_id, "version": {"$lte": snapshot.version}}, {"$set": doc}


def snapshot_of(payload: Any) -> TicketSnapshot | None:
    """Every ticket event carries the ticket snapshot under `ticket`."""
    snapshot = getattr(payload, "ticket", None)
    return snapshot if isinstance(snapshot, TicketSnapshot) else None
