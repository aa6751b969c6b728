"""Dead-letter middleware: FastStream 0.7 has no Kafka DLQ, so s8 brings one.

- A message that can never be processed (bad JSON, invalid contract) goes at once to
  `support.deadletter.v1` with the reason and the original bytes, then is acknowledged.
- Any other error is transient: the middleware seeks back (the message is redelivered)
  after a short backoff, and after `max_delivery_attempts` it dead-letters the message so
  one poison message cannot block its partition forever.
- Every settled record goes to `OffsetCommits` (subscribers acknowledge manually), which
  commits in batches; a dead letter is sent without waiting for the broker, and its record's
  offset is committed only once the broker has it (or the store keeps it). A storm of bad
  messages thus costs no round trip per message.
A dead letter carries one bounded copy of the original (its head, size and SHA-256 when
larger than COPY_LIMIT_BYTES), so it always fits on its topic. If it still cannot be
published, it is kept in the service's own store (republished later) and the offset is
committed: one message never blocks its partition. Only when keeping it fails too is the
message read again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from aiokafka import ConsumerRecord, TopicPartition
from faststream import BaseMiddleware
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from prometheus_client import CollectorRegistry, Counter

from s8_shared.contracts.deadletter import DeadLetterPayload, DeadLetterRecorded
from s8_shared.kafka.commits import Committer, OffsetCommits, Refused
from s8_shared.kafka.failures import classify, error_type_of
from s8_shared.kafka.originals import (
    COPY_LIMIT_BYTES,
    HEADER_LIMIT_BYTES,
    MAX_HEADERS,
    REASON_LIMIT_CHARS,
    bounded,
    original_copy,
)
from s8_shared.observability.log_budget import LogBudget
from s8_shared.topics import DEADLETTER, TopicSpec

if TYPE_CHECKING:
    from faststream._internal.basic_types import AsyncFuncAny
    from faststream._internal.context.repository import ContextRepo
    from faststream.message import StreamMessage

log = logging.getLogger("s8.deadletter")

RecordId = tuple[str, int, int]
__all__ = ["COPY_LIMIT_BYTES", "DeadLetterPolicy", "classify", "error_type_of", "original_copy"]


class DeadLetterSink(Protocol):
    def topic(self, spec: TopicSpec) -> str: ...

    async def publish_deadletter(self, event: DeadLetterRecorded, key: bytes | None) -> None: ...

    async def send_deadletter(
        self, event: DeadLetterRecorded, key: bytes | None
    ) -> Awaitable[Any] | None:
        """Hands the dead letter to the producer; returns its delivery, not awaited."""


class DeadLetterKeeper(Protocol):
    """Keeps a dead letter that could not be published (in the service's own store)."""

    async def keep(self, event: DeadLetterRecorded, key: bytes | None) -> None: ...


@dataclass(slots=True)
class DeadLettered:
    """A failure settled as a dead letter: its delivery (None when already done or not sent)
    and what to do if the broker refuses it."""

    delivery: Awaitable[Any] | None = None
    on_refused: Refused | None = None


class DeadLetterPolicy:
    """Counts delivery attempts and writes dead letters for one service."""

    def __init__(
        self,
        service: str,
        *,
        max_attempts: int,
        backoff_seconds: float,
        registry: CollectorRegistry,
    ) -> None:
        self.service = service
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.publisher: DeadLetterSink | None = None
        self.keeper: DeadLetterKeeper | None = None
        self.commits = OffsetCommits()
        self._attempts: dict[RecordId, int] = {}
        self.log_budget = LogBudget()  # a storm's lines are counted, not each written
        self.dead_letters = Counter(
            "s8_dead_letters_total",
            "Messages sent to the dead-letter topic.",
            ["service", "source_topic", "error_type"],
            registry=registry,
        )
        self.kept = Counter(
            "s8_dead_letters_kept_total",
            "Dead letters that could not be published and were kept in the service's store.",
            ["service", "source_topic"],
            registry=registry,
        )
        self.redeliveries = Counter(
            "s8_redeliveries_total",
            "Messages handed back for redelivery after a transient error.",
            ["service", "source_topic"],
            registry=registry,
        )

    def bind(self, publisher: DeadLetterSink, keeper: DeadLetterKeeper | None = None) -> None:
        self.publisher = publisher
        self.keeper = keeper

    def middleware(self, msg: Any, /, *, context: ContextRepo) -> DeadLetterMiddleware:
        return DeadLetterMiddleware(msg, context=context, policy=self)

    async def handle_failure(
        self, record: ConsumerRecord[Any, Any], exc: BaseException
    ) -> DeadLettered | None:
        """How the failure is settled (a dead letter), or None to redeliver."""
        record_id = (record.topic, record.partition, record.offset)
        if self.publisher is not None and record.topic == self.publisher.topic(DEADLETTER):
            # Never dead-letter a dead letter: that would loop. Log it and move on.
            log.error("could not process a dead letter; skipped", extra={"offset": record.offset})
            return DeadLettered()
        reason = classify(exc)
        if reason is not None:
            self._attempts.pop(record_id, None)
            return await self._dead_letter(record, reason, error_type_of(exc), attempts=1)
        attempts = self._attempts.get(record_id, 0) + 1
        if attempts >= self.max_attempts:
            self._attempts.pop(record_id, None)
            return await self._dead_letter(
                record,
                f"gave up after {attempts} attempts: {type(exc).__name__}: {exc}",
                "gave_up",
                attempts=attempts,
            )
        self._attempts[record_id] = attempts
        self.redeliveries.labels(self.service, record.topic).inc()
        log.warning(
            "transient failure, will redeliver",
            extra={
                "topic": record.topic,
                "offset": record.offset,
                "attempt": attempts,
                "error": f"{type(exc).__name__}: {exc}",
            },
        )
        await asyncio.sleep(min(self.backoff_seconds * 2 ** (attempts - 1), 30.0))
        return None

    def succeeded(self, record: ConsumerRecord[Any, Any]) -> None:
        self._attempts.pop((record.topic, record.partition, record.offset), None)

    async def _dead_letter(
        self, record: ConsumerRecord[Any, Any], reason: str, error_type: str, *, attempts: int
    ) -> DeadLettered:
        if self.publisher is None:
            raise RuntimeError("DeadLetterPolicy used before bind()")
        value: bytes = record.value or b""
        headers = {
            k[:HEADER_LIMIT_BYTES]: bounded(v) or ""
            for k, v in (record.headers or ())[:MAX_HEADERS]
        }
        event = DeadLetterRecorded(
            producer=self.service,
            payload=DeadLetterPayload(
                dead_letter_id=f"{record.topic}/{record.partition}/{record.offset}",
                service=self.service,
                source_topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=bounded(record.key),
                reason=reason[:REASON_LIMIT_CHARS],
                error_type=error_type,
                attempts=attempts,
                original_headers=headers,
                **original_copy(value),
            ),
        )
        self.dead_letters.labels(self.service, record.topic, error_type).inc()
        if (skipped := self.log_budget.take()) is not None:
            log.error(
                "dead-lettered message",
                extra={
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                    "reason": reason,
                    "error_type": error_type,
                    "not_logged_before": skipped,
                },
            )

        async def keep(error: BaseException) -> bool:
            if self.keeper is None:
                return False
            # Kept, and the offset committed: the messages behind it go on.
            await self.keeper.keep(event, record.key)
            self.kept.labels(self.service, record.topic).inc()
            log.error(
                "dead letter kept in the store: publishing it failed",
                extra={"topic": record.topic, "offset": record.offset, "error": repr(error)},
            )
            return True

        try:
            delivery = await self.publisher.send_deadletter(event, key=record.key)
        except Exception as exc:  # refused at once, e.g. too large for the producer
            if not await keep(exc):
                raise
            return DeadLettered()
        return DeadLettered(delivery, keep)


class DeadLetterMiddleware(BaseMiddleware):
    """Settles every record inside the handler's scope, so a dead-lettered message ends its
    span as an error with the reason, without a formatted traceback (which would cost more
    than handling it: a storm of bad messages must drain at more than 1,000/s)."""

    def __init__(self, msg: Any, /, *, context: ContextRepo, policy: DeadLetterPolicy) -> None:
        super().__init__(msg, context=context)
        self.policy = policy
        self.handled = False

    async def consume_scope(self, call_next: AsyncFuncAny, msg: StreamMessage[Any]) -> Any:
        record = msg.raw_message
        if not isinstance(record, ConsumerRecord):  # batches: no DLQ here
            return await call_next(msg)
        self.handled = True
        consumer: Committer | None = getattr(msg, "consumer", None)
        try:
            result = await call_next(msg)
        except Exception as exc:
            settled = await self.policy.handle_failure(record, exc)
            if settled is None:  # transient: read it again after the backoff
                if consumer is not None and hasattr(consumer, "seek"):
                    consumer.seek(TopicPartition(record.topic, record.partition), record.offset)
                raise
            trace.get_current_span().set_status(Status(StatusCode.ERROR, f"dead-lettered: {exc}"))
            await self._settle(consumer, record, settled)
            return None
        self.policy.succeeded(record)
        await self._settle(consumer, record, DeadLettered())
        return result

    async def _settle(
        self, consumer: Committer | None, record: ConsumerRecord[Any, Any], done: DeadLettered
    ) -> None:
        if consumer is None or not hasattr(consumer, "commit"):  # FastStream's test consumer
            return
        if self.policy.commits.settle(consumer, record, done.delivery, done.on_refused):
            await self.policy.commits.flush()

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool | None:
        # Only a failure before the handler's scope (FastStream's parser) arrives unsettled.
        record = self.msg
        if self.handled or not isinstance(exc_val, Exception):
            return False
        if not isinstance(record, ConsumerRecord):  # test doubles
            return False
        return await self.policy.handle_failure(record, exc_val) is not None
