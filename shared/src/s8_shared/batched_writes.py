"""Writes an effect queues while a batch of events is applied, sent as one bulk write when
the batch ends (`ServiceRuntime.event_subscriber(..., flush=writes.flush)`), before the
batch's event ids are remembered and its offsets committed: a batch that cannot be written is
read again, whole. Only for writes that tolerate any order and a replay (conditional on the
event's time or version), since the store may apply an unordered bulk write in any order."""

from __future__ import annotations

import asyncio

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError
from pymongo.operations import UpdateOne

from s8_shared.mongo import DUPLICATE_KEY, Document


class BatchedWrites:
    def __init__(self, col: AsyncCollection[Document]) -> None:
        self.col = col
        # Per task: each subscriber applies its batches in a task of its own.
        self._queued: dict[asyncio.Task[object] | None, list[UpdateOne]] = {}

    def add(self, op: UpdateOne) -> None:
        self._queued.setdefault(asyncio.current_task(), []).append(op)

    async def flush(self) -> None:
        """Sends what this task queued; an upsert that collided with a newer document (the
        condition did not match it) is the late event's expected outcome, not an error."""
        ops = self._queued.pop(asyncio.current_task(), [])
        if not ops:
            return
        try:
            await self.col.bulk_write(ops, ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                raise
