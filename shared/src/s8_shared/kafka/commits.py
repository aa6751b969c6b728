"""Offsets committed in batches, each only after the records it covers are settled.

FastStream's acknowledgement commits once per message: a round trip to the group coordinator
that costs more than handling a bad message, so a storm of dead letters drained at ~100/s.
s8's subscribers therefore acknowledge manually and settle each record here, in the order it
was consumed; a flush (every `kafka_commit_interval_seconds`, or when MAX_PENDING records
wait) waits for the dead letters those records caused, keeps the ones the broker refused (in
the service's store), and commits the next offset of each partition. A crash loses at most the commits of
one flush interval: those records are redelivered and applied once (every handler is
idempotent), never skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiokafka import ConsumerRecord, TopicPartition

log = logging.getLogger("s8.commits")

MAX_PENDING = 500

Refused = Callable[[BaseException], Awaitable[bool]]  # True once the refused item is kept


class Committer(Protocol):
    """The part of aiokafka's consumer a flush uses."""

    async def commit(self, offsets: dict[TopicPartition, int]) -> None: ...

    def seek(self, partition: TopicPartition, offset: int) -> None: ...

    def assignment(self) -> set[TopicPartition]: ...


@dataclass(slots=True)
class _Settled:
    record: ConsumerRecord[Any, Any]
    delivery: Awaitable[Any] | None
    on_refused: Refused | None


class OffsetCommits:
    def __init__(self, *, max_pending: int = MAX_PENDING) -> None:
        self.max_pending = max_pending
        self._pending: dict[int, tuple[Committer, list[_Settled]]] = {}
        self._lock = asyncio.Lock()

    def settle(
        self,
        consumer: Committer,
        record: ConsumerRecord[Any, Any],
        delivery: Awaitable[Any] | None = None,
        on_refused: Refused | None = None,
    ) -> bool:
        """Queues `record` (handled, or dead-lettered by `delivery`); True when a flush is due."""
        _, items = self._pending.setdefault(id(consumer), (consumer, []))
        items.append(_Settled(record, delivery, on_refused))
        return len(items) >= self.max_pending

    def waiting(self) -> int:
        return sum(len(items) for _, items in self._pending.values())

    async def flush(self) -> None:
        async with self._lock:
            pending, self._pending = self._pending, {}
            for consumer, items in pending.values():
                await self._flush_one(consumer, items)

    async def _flush_one(self, consumer: Committer, items: list[_Settled]) -> None:
        results = await asyncio.gather(
            *(_delivered(item.delivery) for item in items), return_exceptions=True
        )
        offsets: dict[TopicPartition, int] = {}
        blocked: set[TopicPartition] = set()
        for item, result in zip(items, results, strict=True):
            tp = TopicPartition(item.record.topic, item.record.partition)
            if tp in blocked:
                continue
            if isinstance(result, BaseException) and not await _kept(item, result):
                # Neither published nor kept: read the partition again from this record.
                blocked.add(tp)
                consumer.seek(tp, item.record.offset)
                continue
            offsets[tp] = item.record.offset + 1
        # A partition revoked since (rebalanced): its next owner reads those records again.
        assigned = consumer.assignment()
        offsets = {tp: offset for tp, offset in offsets.items() if tp in assigned}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except Exception as exc:  # rebalanced or stopping: the records are read again, once
            log.warning("offsets not committed", extra={"error": repr(exc), "records": len(items)})


async def _delivered(delivery: Awaitable[Any] | None) -> None:
    if delivery is not None:
        await delivery


async def _kept(item: _Settled, error: BaseException) -> bool:
    if item.on_refused is None:
        return False
    try:
        return await item.on_refused(error)
    except Exception:
        log.exception("a refused dead letter could not be kept either")
        return False
