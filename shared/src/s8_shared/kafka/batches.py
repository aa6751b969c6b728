"""Event topics consumed in batches: one idempotency check and one write of the applied
event ids per batch instead of two store commands per event.

A batch is what the consumer had fetched (at most `kafka_batch_max_records`), records of one
partition in their order; each record is still settled on its own, as the dead-letter
middleware settles a single one: an invalid event is dead-lettered at once and the batch
goes on, a transient failure seeks its partition back to that record (the partition's later
records in the batch wait for the redelivery), and records are committed only once the ids
of the events they applied are stored. A crash before that replays the effects of at most
one batch, which every effect tolerates (they are idempotent; the ids only spare the work).
Each record gets its own consumer span, continuing the trace its producer wrote in its
headers, as a single-record subscriber's would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from aiokafka import ConsumerRecord, TopicPartition
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from s8_shared.contracts.envelope import Event
from s8_shared.handling import EventApplier
from s8_shared.kafka.commits import Committer
from s8_shared.kafka.deadletter import DeadLettered, DeadLetterPolicy

log = logging.getLogger("s8.batches")

Effect = Callable[[Event[Any]], Awaitable[None]]


class QueuedWrites(Protocol):
    """Writes the effects queue while a batch is applied (s8_shared.batched_writes)."""

    def begin(self) -> None: ...

    async def flush(self) -> None: ...


Parse = Callable[[tuple[ConsumerRecord[Any, Any], ...]], Awaitable[Any]]
_PROPAGATOR = TraceContextTextMapPropagator()


async def lenient_batch_parser(records: tuple[ConsumerRecord[Any, Any], ...], parse: Parse) -> Any:
    """FastStream's batch parser fails the whole batch on one header that is not UTF-8: it
    parses copies without such headers, and the message keeps the records as they came
    (a dead letter carries their headers)."""
    msg = await parse(tuple(_decodable_headers(r) for r in records))
    msg.raw_message = tuple(records)
    return msg


async def whole_message(msg: Any) -> Any:
    """The batch handler's argument: the message, with its records and consumer."""
    return msg


def _decodable_headers(record: ConsumerRecord[Any, Any]) -> ConsumerRecord[Any, Any]:
    headers = record.headers or ()
    kept = tuple((k, v) for k, v in headers if _utf8(v))
    return record if len(kept) == len(headers) else dataclasses.replace(record, headers=kept)


def _utf8(value: bytes | None) -> bool:
    try:
        (value or b"").decode()
    except UnicodeDecodeError:
        return False
    return True


class BatchConsumer:
    """Applies a batch of records through an `EventApplier` (one per service process)."""

    def __init__(self, policy: DeadLetterPolicy, tracer_provider: TracerProvider) -> None:
        self.policy = policy
        self.tracer = trace.get_tracer("s8_shared.kafka", tracer_provider=tracer_provider)

    async def __call__(
        self, msg: Any, applier: EventApplier, effect: Effect, writes: QueuedWrites | None = None
    ) -> None:
        records: list[ConsumerRecord[Any, Any]] = list(msg.raw_message or ())
        consumer: Committer | None = getattr(msg, "consumer", None)
        if not hasattr(consumer, "commit"):  # FastStream's test consumer commits nothing
            consumer = None
        if writes is not None:
            writes.begin()
        events: list[Event[Any] | Exception | None] = []
        for record in records:
            try:
                events.append(applier.decode(record.value or b""))
            except Exception as exc:  # settled in its turn below, as the record's failure
                events.append(exc)
        try:
            done = await applier.processed.seen_among(
                [str(e.event_id) for e in events if isinstance(e, Event)]
            )
        except Exception as exc:
            await self._again(consumer, records, f"checking the batch's event ids failed: {exc!r}")
            return
        applied: list[tuple[str, str]] = []
        settled: list[tuple[ConsumerRecord[Any, Any], DeadLettered]] = []
        waiting: set[TopicPartition] = set()  # a record failed: the rest comes again
        for record, event in zip(records, events, strict=True):
            tp = TopicPartition(record.topic, record.partition)
            if tp in waiting:
                continue
            with self._span(record) as span:
                try:
                    if isinstance(event, Exception):
                        raise event
                    if event is not None and await applier.apply_unless_done(event, done, effect):
                        applied.append((str(event.event_id), event.type))
                except Exception as exc:
                    outcome = await self.policy.handle_failure(record, exc)
                    if outcome is None:  # transient: this record and what follows, again
                        waiting.add(tp)
                        if consumer is not None:
                            consumer.seek(tp, record.offset)
                        continue
                    span.set_status(Status(StatusCode.ERROR, f"dead-lettered: {exc}"))
                    settled.append((record, outcome))
                    continue
            self.policy.succeeded(record)
            settled.append((record, DeadLettered()))
        try:
            if writes is not None:  # the effects' queued writes, before their ids are remembered
                await writes.flush()
            await applier.processed.remember_all(applied)
        except Exception as exc:
            await self._again(consumer, [r for r, _ in settled], f"storing failed: {exc!r}")
            return
        await self._settle(consumer, settled)

    def _span(self, record: ConsumerRecord[Any, Any]) -> Any:
        carrier = {k: v.decode() for k, v in record.headers or () if _utf8(v)}
        return self.tracer.start_as_current_span(
            f"{record.topic} process",
            context=_PROPAGATOR.extract(carrier),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation": "process",
                "messaging.destination.name": record.topic,
                "messaging.destination.partition.id": str(record.partition),
                "messaging.kafka.message.offset": record.offset,
            },
        )

    async def _settle(
        self,
        consumer: Committer | None,
        settled: Sequence[tuple[ConsumerRecord[Any, Any], DeadLettered]],
    ) -> None:
        if consumer is None:
            return
        flush = False
        for record, done in settled:
            flush |= self.policy.commits.settle(consumer, record, done.delivery, done.on_refused)
        if flush:
            await self.policy.commits.flush()

    async def _again(
        self, consumer: Committer | None, records: Sequence[ConsumerRecord[Any, Any]], why: str
    ) -> None:
        """Nothing of `records` is settled: each partition is read again from its first,
        after the backoff (the store is likely down)."""
        log.warning("batch handed back for redelivery", extra={"error": why})
        await asyncio.sleep(self.policy.backoff_seconds)
        if consumer is None:
            return
        first: dict[TopicPartition, int] = {}
        for record in records:
            first.setdefault(TopicPartition(record.topic, record.partition), record.offset)
        for tp, offset in first.items():
            consumer.seek(tp, offset)
