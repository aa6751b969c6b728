"""Writes an effect queues while a batch of events is applied, sent as one bulk write when
the batch ends (`ServiceRuntime.event_subscriber(..., writes=...)`), before the batch's event
ids are remembered and its offsets committed: a batch that cannot be written is read again,
whole. Only for writes that tolerate any order and a replay (conditional on the event's time
or version), since the store may apply an unordered bulk write in any order."""

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

    def begin(self) -> None:
        """A batch starts in this task: what it queues waits for `flush` (what a batch that
        failed before its flush had queued is dropped: that batch is read again)."""
        self._queued[asyncio.current_task()] = []

    def add(self, op: UpdateOne) -> None:
        """Queues `op` for the batch being applied."""
        self._queued.setdefault(asyncio.current_task(), []).append(op)

    async def put(self, op: UpdateOne) -> None:
        """Queues `op` inside a batch; outside one (an API call, a timer) writes it now."""
        queued = self._queued.get(asyncio.current_task())
        if queued is not None:
            queued.append(op)
        else:
            await self._write([op])

    async def flush(self) -> None:
        """Sends what this task queued."""
        ops = self._queued.pop(asyncio.current_task(), [])
        if ops:
            await self._write(ops)

    async def _write(self, ops: list[UpdateOne]) -> None:
        """An upsert that collided with a newer document (the condition did not match it) is
        the late event's expected outcome, not an error."""
        try:
            await self.col.bulk_write(ops, ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                raise


class WriteGroup:
    """Several collections' batched writes, begun and flushed with one batch."""

    def __init__(self, *writes: BatchedWrites) -> None:
        self.writes = writes

    def begin(self) -> None:
        for writes in self.writes:
            writes.begin()

    async def flush(self) -> None:
        for writes in self.writes:
            await writes.flush()
