import pytest
from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, ValidationError

from s8_shared.contracts import InvalidMessage
from s8_shared.kafka.deadletter import DeadLetterPolicy, classify
from s8_shared.testing.fakes import RecordingPublisher


def record(
    value: bytes = b'{"x": 1}', topic: str = "support.inbound.v1", offset: int = 7
) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=topic,
        partition=2,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"k-1",
        value=value,
        checksum=None,
        serialized_key_size=3,
        serialized_value_size=len(value),
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
