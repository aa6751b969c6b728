"""Dead-letter middleware: FastStream 0.7 has no Kafka DLQ, so s8 brings one.

- A message that can never be processed (bad JSON, invalid contract) goes at once to
  `support.deadletter.v1` with the reason and the original bytes, then is acknowledged.
- Any other error is transient: the middleware lets it propagate (NACK_ON_ERROR seeks
  back and the message is redelivered) after a short backoff, and after
  `max_delivery_attempts` it dead-letters the message so one poison message cannot
  block its partition forever.
A dead letter carries one bounded copy of the original (its head, size and SHA-256 when
larger than COPY_LIMIT_BYTES), so it always fits on its topic. If it still cannot be
published, it is kept in the service's own store (republished later) and the offset is
committed: one message never blocks its partition. Only when keeping it fails too does the
error propagate (nothing committed, redelivered).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from aiokafka import ConsumerRecord
from faststream import BaseMiddleware
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError

from s8_shared.contracts.deadletter import DeadLetterPayload, DeadLetterRecorded
from s8_shared.contracts.envelope import InvalidMessage, validation_reason
from s8_shared.topics import DEADLETTER, TopicSpec

if TYPE_CHECKING:
    from faststream._internal.context.repository import ContextRepo

log = logging.getLogger("s8.deadletter")

RecordId = tuple[str, int, int]


# The head of the original a dead letter carries: far below the producer's 1 MiB limit even
# base64-encoded, with room for the reason, key and headers (each capped below).
COPY_LIMIT_BYTES = 64 * 1024
REASON_LIMIT_CHARS = 2000
HEADER_LIMIT_BYTES = 1024
MAX_HEADERS = 32


class DeadLetterSink(Protocol):
    def topic(self, spec: TopicSpec) -> str: ...

    async def publish_deadletter(self, event: DeadLetterRecorded, key: bytes | None) -> None: ...


class DeadLetterKeeper(Protocol):
    """Keeps a dead letter that could not be published (in the service's own store)."""

    async def keep(self, event: DeadLetterRecorded, key: bytes | None) -> None: ...


def _text(value: bytes | None) -> str | None:
    if value is None:
        return None
    try:
        return value.decode()
    except UnicodeDecodeError:
        return None


def _b64_or_text(value: bytes | None) -> str | None:
    if value is None:
        return None
    text = _text(value)
    return text if text is not None else base64.b64encode(value).decode()


def _bounded(value: bytes | None, limit: int = HEADER_LIMIT_BYTES) -> str | None:
    return _b64_or_text(None if value is None else value[:limit])


def original_copy(value: bytes) -> dict[str, Any]:
    """The dead letter's one copy of `value`: as text if it is UTF-8, else base64; only its
    head when it is larger than COPY_LIMIT_BYTES (the size and SHA-256 name the whole)."""
    head = value[:COPY_LIMIT_BYTES]
    text = _text(head)
    if text is None and len(value) > COPY_LIMIT_BYTES:
        # The cut may fall inside a multi-byte character: keep the text up to it.
        text = head.decode(errors="ignore") if _text(value) is not None else None
    return {
        "original_text": text,
        "original_b64": None if text is not None else base64.b64encode(head).decode(),
        "original_size": len(value),
        "original_sha256": hashlib.sha256(value).hexdigest(),
        "original_truncated": len(value) > COPY_LIMIT_BYTES,
    }


def classify(exc: BaseException) -> str | None:
    """The reason when `exc` means the message itself is bad, else None (transient)."""
    if isinstance(exc, InvalidMessage):
        return exc.reason
    if isinstance(exc, ValidationError):
        return validation_reason(exc)
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8: {exc}"
    if isinstance(exc, UnicodeEncodeError):
        return "text that is not Unicode (a lone surrogate)"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        # FastStream's own JSON decoding, before the handler: Python has no subclass for it.
        return "an integer of more digits than Python converts"
    return None


def error_type_of(exc: BaseException) -> str:
    """`too_large`, or `invalid` for any other message that can never be processed."""
    return exc.error_type if isinstance(exc, InvalidMessage) else "invalid"


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
        self._attempts: dict[RecordId, int] = {}
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

    async def handle_failure(self, record: ConsumerRecord[Any, Any], exc: BaseException) -> bool:
        """True when the failure is settled (dead-lettered), False to redeliver."""
        record_id = (record.topic, record.partition, record.offset)
        if self.publisher is not None and record.topic == self.publisher.topic(DEADLETTER):
            # Never dead-letter a dead letter: that would loop. Log it and move on.
            log.error("could not process a dead letter; skipped", extra={"offset": record.offset})
            return True
        reason = classify(exc)
        if reason is not None:
            await self._dead_letter(record, reason, error_type_of(exc), attempts=1)
            self._attempts.pop(record_id, None)
            return True
        attempts = self._attempts.get(record_id, 0) + 1
        if attempts >= self.max_attempts:
            await self._dead_letter(
                record,
                f"gave up after {attempts} attempts: {type(exc).__name__}: {exc}",
                "gave_up",
                attempts=attempts,
            )
            self._attempts.pop(record_id, None)
            return True
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
        return False

    def succeeded(self, record: ConsumerRecord[Any, Any]) -> None:
        self._attempts.pop((record.topic, record.partition, record.offset), None)

    async def _dead_letter(
        self, record: ConsumerRecord[Any, Any], reason: str, error_type: str, *, attempts: int
    ) -> None:
        if self.publisher is None:
            raise RuntimeError("DeadLetterPolicy used before bind()")
        value: bytes = record.value or b""
        headers = {
            k[:HEADER_LIMIT_BYTES]: _bounded(v) or ""
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
                key=_bounded(record.key),
                reason=reason[:REASON_LIMIT_CHARS],
                error_type=error_type,
                attempts=attempts,
                original_headers=headers,
                **original_copy(value),
            ),
        )
        try:
            await self.publisher.publish_deadletter(event, key=record.key)
        except Exception as exc:
            if self.keeper is None:
                raise
            # Kept, and the offset committed: the messages behind it go on.
            await self.keeper.keep(event, record.key)
            self.kept.labels(self.service, record.topic).inc()
            log.error(
                "dead letter kept in the store: publishing it failed",
                extra={"topic": record.topic, "offset": record.offset, "error": repr(exc)},
            )
        self.dead_letters.labels(self.service, record.topic, error_type).inc()
        log.error(
            "dead-lettered message",
            extra={
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "reason": reason,
                "error_type": error_type,
            },
        )


class DeadLetterMiddleware(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: ContextRepo, policy: DeadLetterPolicy) -> None:
        super().__init__(msg, context=context)
        self.policy = policy

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool | None:
        record = self.msg
        if not isinstance(record, ConsumerRecord):  # batches and test doubles: no DLQ here
            return False
        if exc_val is None:
            self.policy.succeeded(record)
            return False
        if not isinstance(exc_val, Exception):  # cancellation, shutdown: let it through
            return False
        return await self.policy.handle_failure(record, exc_val)
