import base64
import hashlib
import json
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, ValidationError

from s8_shared.contracts import InvalidMessage
from s8_shared.contracts.envelope import MAX_MESSAGE_BYTES, TooLarge, load_json_object
from s8_shared.kafka.deadletter import (
    COPY_LIMIT_BYTES,
    DeadLetterPolicy,
    classify,
    error_type_of,
    original_copy,
)
from s8_testing.builders import consumer_record
from s8_testing.fakes import RecordingPublisher


def record(
    value: bytes = b'{"x": 1}', topic: str = "support.inbound.v1", offset: int = 7
) -> ConsumerRecord[bytes, bytes]:
    return consumer_record(
        topic,
        value,
        partition=2,
        offset=offset,
        key=b"k-1",
        headers=[("content-type", b"application/json")],
    )


@pytest.fixture
def sink() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def policy(sink: RecordingPublisher) -> DeadLetterPolicy:
    p = DeadLetterPolicy("s8-test", max_attempts=3, backoff_seconds=0, registry=CollectorRegistry())
    p.bind(sink)
    return p


class Strict(BaseModel):
    n: int


def test_bad_messages_are_classified_with_a_reason_and_errors_as_transient() -> None:
    assert classify(InvalidMessage("nope")) == "nope"
    with pytest.raises(ValidationError) as info:
        Strict.model_validate({"n": "x"})
    assert "n: Input should be a valid integer" in (classify(info.value) or "")
    assert classify(ConnectionError("mongo down")) is None
    assert classify(TimeoutError()) is None


async def test_an_invalid_message_is_dead_lettered_at_once_with_its_original_bytes(
    policy: DeadLetterPolicy, sink: RecordingPublisher
) -> None:
    raw = b"\xff\x00binary"
    settled = await policy.handle_failure(record(raw), InvalidMessage("not valid JSON"))
    assert settled
    [dead] = sink.on("support.deadletter.v1")
    assert dead.payload.reason == "not valid JSON"
    assert dead.payload.error_type == "invalid"
    assert dead.payload.original_bytes() == raw
    assert dead.payload.original_text is None
    assert dead.payload.key == "k-1"
    assert dead.payload.dead_letter_id == "support.inbound.v1/2/7"
    assert dead.payload.original_headers == {"content-type": "application/json"}


async def test_a_transient_failure_is_redelivered_then_dead_lettered_after_max_attempts(
    policy: DeadLetterPolicy, sink: RecordingPublisher
) -> None:
    rec = record()
    assert not await policy.handle_failure(rec, ConnectionError("mongo down"))
    assert not await policy.handle_failure(rec, ConnectionError("mongo down"))
    assert sink.on("support.deadletter.v1") == []
    assert await policy.handle_failure(rec, ConnectionError("mongo down"))
    [dead] = sink.on("support.deadletter.v1")
    assert dead.payload.error_type == "gave_up"
    assert dead.payload.attempts == 3
    assert "ConnectionError: mongo down" in dead.payload.reason


async def test_success_resets_the_attempt_count(
    policy: DeadLetterPolicy, sink: RecordingPublisher
) -> None:
    rec = record()
    await policy.handle_failure(rec, ConnectionError("blip"))
    await policy.handle_failure(rec, ConnectionError("blip"))
    policy.succeeded(rec)
    assert not await policy.handle_failure(rec, ConnectionError("blip"))
    assert sink.on("support.deadletter.v1") == []


async def test_a_failing_dead_letter_is_never_dead_lettered_again(
    policy: DeadLetterPolicy, sink: RecordingPublisher
) -> None:
    assert await policy.handle_failure(record(topic="support.deadletter.v1"), InvalidMessage("x"))
    assert sink.sent == []


def test_a_message_too_deep_or_not_unicode_is_invalid_not_transient() -> None:
    assert classify(RecursionError()) == "nested too deeply"
    with pytest.raises(ValueError, match="integer string conversion") as huge:
        json.loads('{"n": ' + "9" * 5000 + "}")  # as FastStream decodes a body itself
    assert classify(huge.value) == "an integer of more digits than Python converts"
    assert classify(ValueError("something else")) is None
    assert classify(UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"))
    with pytest.raises(InvalidMessage, match="nested too deeply"):
        load_json_object("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InvalidMessage, match="lone surrogate"):
        load_json_object('{"text": "\\ud800 alone"}')
    with pytest.raises(InvalidMessage, match="not valid JSON"):
        load_json_object('{"n": ' + "9" * 5000 + "}")
    assert load_json_object('{"smile": "\\ud83d\\ude00"}') == {"smile": "\U0001f600"}


async def test_a_large_message_becomes_a_dead_letter_with_one_bounded_copy(
    policy: DeadLetterPolicy, sink: RecordingPublisher
) -> None:
    raw = json.dumps({"text": "ệ" * 400_000}).encode()  # 1.2 MB of text
    assert await policy.handle_failure(record(raw), InvalidMessage("too large"))
    [dead] = sink.on("support.deadletter.v1")
    assert len(dead.to_bytes()) < COPY_LIMIT_BYTES + 16 * 1024
    payload = dead.payload
    assert payload.original_truncated
    assert payload.original_b64 is None  # one copy, as text
    assert (payload.original_size, payload.original_sha256) == (
        len(raw),
        hashlib.sha256(raw).hexdigest(),
    )
    assert raw.startswith(payload.original_bytes())
    assert len(payload.original_bytes()) > COPY_LIMIT_BYTES - 4


async def test_a_message_above_the_read_limit_is_dead_lettered_as_too_large(
    policy: DeadLetterPolicy, sink: RecordingPublisher
) -> None:
    raw = json.dumps({"text": "a" * MAX_MESSAGE_BYTES}).encode()
    with pytest.raises(TooLarge) as info:
        load_json_object(raw)
    assert "at most 1,048,576" in info.value.reason
    assert load_json_object(raw, max_bytes=len(raw)) == json.loads(
        raw
    )  # a limit, not a parse error
    assert await policy.handle_failure(record(raw), info.value)
    [dead] = sink.on("support.deadletter.v1")
    assert dead.payload.error_type == "too_large"
    assert dead.payload.attempts == 1
    assert dead.payload.original_truncated
    assert error_type_of(InvalidMessage("bad")) == "invalid"


async def test_a_small_message_is_carried_whole_and_once() -> None:
    copy = original_copy(b"\xff\x00binary")
    assert (copy["original_text"], copy["original_truncated"]) == (None, False)
    assert base64.b64decode(copy["original_b64"]) == b"\xff\x00binary"
    assert original_copy(b'{"a": 1}')["original_text"] == '{"a": 1}'


class RefusingPublisher(RecordingPublisher):
    async def publish_deadletter(self, event: Any, key: bytes | None) -> None:
        raise KafkaError("MessageSizeTooLarge")


class Keeper:
    def __init__(self) -> None:
        self.kept: list[Any] = []

    async def keep(self, event: Any, key: bytes | None) -> None:
        self.kept.append((event, key))


async def test_a_dead_letter_the_broker_refuses_is_kept_and_the_message_settled() -> None:
    policy = DeadLetterPolicy(
        "s8-test", max_attempts=3, backoff_seconds=0, registry=CollectorRegistry()
    )
    keeper = Keeper()
    policy.bind(RefusingPublisher(), keeper)
    assert await policy.handle_failure(record(b"\x00bad"), InvalidMessage("not valid JSON"))
    [(event, key)] = keeper.kept
    assert (event.payload.reason, key) == ("not valid JSON", b"k-1")
    assert policy.kept.labels("s8-test", "support.inbound.v1")._value.get() == 1


async def test_without_a_keeper_a_refused_dead_letter_is_redelivered() -> None:
    policy = DeadLetterPolicy(
        "s8-test", max_attempts=3, backoff_seconds=0, registry=CollectorRegistry()
    )
    policy.bind(RefusingPublisher())
    with pytest.raises(KafkaError):
        await policy.handle_failure(record(b"\x00bad"), InvalidMessage("not valid JSON"))
