"""Event batches: one idempotency check and one write per batch, each record still settled,
dead-lettered, redelivered and traced on its own."""

import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client import CollectorRegistry

from s8_shared.contracts import TICKET_EVENTS, Event
from s8_shared.contracts.sla import SlaWarning
from s8_shared.handling import EventApplier, EventStats
from s8_shared.kafka.batches import BatchConsumer, lenient_batch_parser
from s8_shared.kafka.deadletter import DeadLetterPolicy
from s8_testing.builders import consumer_record, make_ticket_created
from s8_testing.fakes import RecordingPublisher

TOPIC = "support.tickets.v1"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class Processed:
    """ProcessedEvents in memory, counting the commands a batch costs."""

    def __init__(self, remembered: Sequence[str] = (), *, failing: bool = False) -> None:
        self.ids = set(remembered)
        self.commands = 0
        self.failing = failing

    async def seen_among(self, event_ids: Sequence[str]) -> set[str]:
        self.commands += 1
        return self.ids & set(event_ids)

    async def remember_all(self, applied: Sequence[tuple[str, str]]) -> None:
        self.commands += 1
        if self.failing:
            raise ConnectionError("store down")
        self.ids |= {event_id for event_id, _ in applied}


class Consumer:
    def __init__(self) -> None:
        self.sought: dict[TopicPartition, int] = {}
        self.committed: dict[TopicPartition, int] = {}

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed.update(offsets)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.sought[partition] = offset

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition(TOPIC, p) for p in range(3)}


class Batch:
    def __init__(self, records: Sequence[ConsumerRecord[bytes, bytes]], consumer: Consumer) -> None:
        self.raw_message = tuple(records)
        self.consumer = consumer


def event(ticket: str = "T-1") -> Event[Any]:
    return make_ticket_created(ticket_id=ticket).model_copy(update={"event_id": uuid.uuid4()})


def record(
    value: bytes | Event[Any], partition: int, offset: int, headers: Any = ()
) -> ConsumerRecord[bytes, bytes]:
    body = value.to_bytes() if isinstance(value, Event) else value
    return consumer_record(
        TOPIC, body, partition=partition, offset=offset, key=b"T-1", headers=headers
    )


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def consume(exporter: InMemorySpanExporter) -> BatchConsumer:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    policy = DeadLetterPolicy("s8-test", max_attempts=3, backoff_seconds=0, registry=CollectorRegistry())  # fmt: skip
    policy.bind(RecordingPublisher())
    return BatchConsumer(policy, provider)


def applier(processed: Processed) -> EventApplier:
    stats = EventStats("s8-test", CollectorRegistry())
    return EventApplier(TICKET_EVENTS, processed, stats, TOPIC)  # type: ignore[arg-type]


async def test_a_batch_costs_one_check_and_one_write_and_applies_each_event_once(
    consume: BatchConsumer,
) -> None:
    old, first, second = event("T-0"), event("T-1"), event("T-2")
    processed = Processed([str(old.event_id)])
    applied: list[str] = []

    async def effect(e: Event[Any]) -> None:
        applied.append(str(e.event_id))

    records = [record(old, 0, 5), record(first, 0, 6), record(second, 1, 3), record(first, 1, 4)]
    consumer = Consumer()
    await consume(Batch(records, consumer), applier(processed), effect)
    await consume.policy.commits.flush()
    assert applied == [str(first.event_id), str(second.event_id)]  # the redelivered ones: once
    assert processed.commands == 2
    assert processed.ids == {str(e.event_id) for e in (old, first, second)}
    assert consumer.committed == {TopicPartition(TOPIC, 0): 7, TopicPartition(TOPIC, 1): 5}


async def test_an_invalid_event_is_dead_lettered_and_the_batch_goes_on(
    consume: BatchConsumer,
) -> None:
    processed, applied = Processed(), []

    async def effect(e: Event[Any]) -> None:
        applied.append(e.payload.ticket_id)

    records = [record(event("T-1"), 0, 1), record(b'{"type": "ticket.created"}', 0, 2), record(event("T-3"), 0, 3)]  # fmt: skip
    consumer = Consumer()
    await consume(Batch(records, consumer), applier(processed), effect)
    await consume.policy.commits.flush()
    assert applied == ["T-1", "T-3"]
    sink = consume.policy.publisher
    assert isinstance(sink, RecordingPublisher)
    [dead] = sink.on("support.deadletter.v1")
    assert dead.payload.offset == 2
    assert consumer.committed == {TopicPartition(TOPIC, 0): 4}


async def test_a_transient_failure_reads_its_partition_again_from_that_record(
    consume: BatchConsumer,
) -> None:
    processed, applied = Processed(), []

    async def effect(e: Event[Any]) -> None:
        if e.payload.ticket_id == "T-2":
            raise ConnectionError("store hiccup")
        applied.append(e.payload.ticket_id)

    records = [
        record(event("T-1"), 0, 1),
        record(event("T-2"), 0, 2),
        record(event("T-3"), 0, 3),  # after the failure, same partition: waits
        record(event("T-4"), 1, 8),  # another partition: goes on
    ]
    consumer = Consumer()
    await consume(Batch(records, consumer), applier(processed), effect)
    await consume.policy.commits.flush()
    assert applied == ["T-1", "T-4"]
    assert consumer.sought == {TopicPartition(TOPIC, 0): 2}
    assert consumer.committed == {TopicPartition(TOPIC, 0): 2, TopicPartition(TOPIC, 1): 9}
    assert len(processed.ids) == 2


async def test_when_the_applied_ids_cannot_be_stored_nothing_is_settled(
    consume: BatchConsumer,
) -> None:
    async def effect(e: Event[Any]) -> None:
        return None

    records = [record(event("T-1"), 0, 1), record(event("T-2"), 0, 2), record(event("T-3"), 2, 4)]
    consumer = Consumer()
    await consume(Batch(records, consumer), applier(Processed(failing=True)), effect)
    await consume.policy.commits.flush()
    assert consumer.committed == {}
    assert consumer.sought == {TopicPartition(TOPIC, 0): 1, TopicPartition(TOPIC, 2): 4}


async def test_each_record_is_a_consumer_span_continuing_its_producers_trace(
    consume: BatchConsumer, exporter: InMemorySpanExporter
) -> None:
    async def effect(e: Event[Any]) -> None:
        return None

    traced = record(event("T-1"), 0, 1, headers=[("traceparent", TRACEPARENT.encode())])
    await consume(Batch([traced, record(event("T-2"), 0, 2)], Consumer()), applier(Processed()), effect)  # fmt: skip
    spans = [s for s in exporter.get_finished_spans() if s.name == f"{TOPIC} process"]
    assert [s.kind for s in spans] == [SpanKind.CONSUMER, SpanKind.CONSUMER]
    assert spans[0].parent is not None
    assert spans[0].parent.is_remote
    assert spans[0].context is not None
    assert f"{spans[0].context.trace_id:032x}" == TRACEPARENT.split("-")[1]
    assert spans[1].parent is None  # no header: a trace of its own


async def test_a_header_that_is_not_utf8_does_not_fail_the_batch() -> None:
    bad = record(event(), 0, 1, headers=[("x-bin", b"\xff\xfe"), ("ok", b"yes")])
    parsed: list[Any] = []

    async def parse(records: tuple[ConsumerRecord[Any, Any], ...]) -> Any:
        for r in records:
            {k: v.decode() for k, v in r.headers}  # FastStream's batch parser, strictly
        parsed.extend(records)
        return Batch(records, Consumer())

    msg = await lenient_batch_parser((bad,), parse)
    assert [h for h, _ in parsed[0].headers] == ["ok"]
    assert msg.raw_message == (bad,)  # the record as it came, for a dead letter


async def test_events_the_effect_does_not_handle_cost_no_idempotency_check(
    consume: BatchConsumer,
) -> None:
    processed, applied = Processed(), []

    async def effect(e: Event[Any]) -> None:
        applied.append(e)

    registry = CollectorRegistry()
    stats = EventStats("s8-test", registry)
    only_warnings = EventApplier(TICKET_EVENTS, processed, stats, TOPIC, handles=(SlaWarning,))  # type: ignore[arg-type]  # fmt: skip
    consumer = Consumer()
    await consume(Batch([record(event(), 0, 1), record(event(), 0, 2)], consumer), only_warnings, effect)  # fmt: skip
    await consume.policy.commits.flush()
    assert applied == []
    assert processed.ids == set()
    assert consumer.committed == {TopicPartition(TOPIC, 0): 3}
    labels = {"service": "s8-test", "topic": TOPIC, "type": "ticket.created", "outcome": "skipped"}
    assert registry.get_sample_value("s8_events_processed_total", labels) == 2


async def test_queued_writes_are_begun_with_the_batch_and_flushed_before_the_ids_are_remembered(
    consume: BatchConsumer,
) -> None:
    order: list[str] = []
    processed = Processed()

    async def effect(e: Event[Any]) -> None:
        order.append("effect")

    class Writes:
        def begin(self) -> None:
            order.append("begin")

        async def flush(self) -> None:
            order.append(f"flush with {len(processed.ids)} remembered")

    consumer = Consumer()
    await consume(Batch([record(event(), 0, 1), record(event(), 0, 2)], consumer), applier(processed), effect, Writes())  # fmt: skip
    await consume.policy.commits.flush()
    assert order == ["begin", "effect", "effect", "flush with 0 remembered"]
    assert len(processed.ids) == 2
    assert consumer.committed == {TopicPartition(TOPIC, 0): 3}


async def test_a_batch_whose_writes_fail_is_read_again_whole(consume: BatchConsumer) -> None:
    processed = Processed()

    async def effect(e: Event[Any]) -> None:
        return None

    class Writes:
        def begin(self) -> None:
            return None

        async def flush(self) -> None:
            raise ConnectionError("store down")

    consumer = Consumer()
    await consume(Batch([record(event(), 0, 1), record(event(), 1, 2)], consumer), applier(processed), effect, Writes())  # fmt: skip
    await consume.policy.commits.flush()
    assert processed.ids == set()
    assert consumer.committed == {}
    assert consumer.sought == {TopicPartition(TOPIC, 0): 1, TopicPartition(TOPIC, 1): 2}
