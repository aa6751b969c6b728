import asyncio
from types import SimpleNamespace
from typing import Any

from opentelemetry.sdk.trace import TracerProvider

from s8_shared.contracts.deadletter import DeadLetterPayload, DeadLetterRecorded
from s8_shared.kafka.publisher import EventPublisher


class RawProducer:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, topic: str, **record: Any) -> "asyncio.Future[str]":
        self.sent.append({"topic": topic, **record})
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        done.set_result("stored")
        return done


class Broker:
    """FastStream 0.7's layout where the aiokafka producer sits; `publish` must not be used."""

    def __init__(self, producer: RawProducer | None) -> None:
        state = SimpleNamespace(producer=producer) if producer else None
        self.config = SimpleNamespace(producer=SimpleNamespace(_producer=state))
        self.published: list[Any] = []

    async def publish(self, body: bytes, topic: str, **kwargs: Any) -> None:
        self.published.append((topic, body, kwargs))


def dead_letter() -> DeadLetterRecorded:
    return DeadLetterRecorded(
        producer="s8-test",
        payload=DeadLetterPayload(
            dead_letter_id="t/0/1",
            service="s8-test",
            source_topic="t",
            reason="bad",
            error_type="invalid",
        ),
    )


async def test_a_dead_letter_goes_to_the_producer_directly_with_the_active_trace() -> None:
    raw = RawProducer()
    broker = Broker(raw)
    publisher = EventPublisher(broker, namespace="ns.")  # type: ignore[arg-type]
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("consume"):
        delivery = await publisher.send_deadletter(dead_letter(), key=b"k-1")
    assert await delivery == "stored"
    assert broker.published == []
    [record] = raw.sent
    assert record["topic"] == "ns.support.deadletter.v1"
    assert record["key"] == b"k-1"
    headers = dict(record["headers"])
    assert headers["s8-event-type"] == b"deadletter.recorded"
    assert headers["traceparent"].startswith(b"00-")
    assert DeadLetterRecorded.model_validate_json(record["value"]).payload.reason == "bad"


async def test_without_a_started_producer_the_dead_letter_goes_through_the_broker() -> None:
    broker = Broker(None)
    publisher = EventPublisher(broker, namespace="")  # type: ignore[arg-type]
    await (await publisher.send_deadletter(dead_letter(), key=None))
    [(topic, _, kwargs)] = broker.published
    assert topic == "support.deadletter.v1"
    assert kwargs["no_confirm"] is True
