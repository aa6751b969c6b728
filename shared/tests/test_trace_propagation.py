"""Trace context through the publisher and the broker's telemetry middleware: events
published now continue the active trace, events published later (from an outbox)
continue the trace recorded in their envelope, and consumers continue the headers'."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from s8_shared import topics
from s8_shared.kafka.broker import make_broker
from s8_shared.kafka.deadletter import DeadLetterPolicy
from s8_shared.kafka.message import KafkaMessage
from s8_shared.kafka.publisher import EventPublisher
from s8_shared.observability.tracing import (
    context_from_headers,
    current_trace_headers,
    envelope_trace,
)
from s8_shared.settings import ServiceSettings
from s8_testing.builders import make_ticket_created

STORED_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
STORED = {"traceparent": f"00-{STORED_TRACE_ID}-00f067aa0ba902b7-01", "tracestate": "s8=1"}


@dataclass
class Received:
    headers: list[dict[str, Any]] = field(default_factory=list)
    trace_ids: list[str] = field(default_factory=list)


@dataclass
class Wired:
    broker: KafkaBroker
    publisher: EventPublisher
    exporter: InMemorySpanExporter
    provider: TracerProvider
    received: Received

    def spans(self) -> tuple[ReadableSpan, ...]:
        return self.exporter.get_finished_spans()


@pytest.fixture
async def wired() -> AsyncIterator[Wired]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    registry = CollectorRegistry()
    settings = ServiceSettings(service_name="s8-test")
    policy = DeadLetterPolicy("s8-test", max_attempts=1, backoff_seconds=0, registry=registry)
    broker = make_broker(settings, registry=registry, tracer_provider=provider, dead_letters=policy)
    publisher = EventPublisher(broker)
    policy.bind(publisher)
    received = Received()

    @broker.subscriber(topics.TICKETS.name(), group_id="g")
    async def handle(msg: KafkaMessage) -> None:
        received.headers.append(dict(msg.headers))
        ctx = trace.get_current_span().get_span_context()
        received.trace_ids.append(format(ctx.trace_id, "032x"))

    async with TestKafkaBroker(broker):
        yield Wired(broker, publisher, exporter, provider, received)


def trace_id_of(traceparent: str) -> str:
    return traceparent.split("-")[1]


async def test_an_event_stored_earlier_continues_its_recorded_trace(wired: Wired) -> None:
    event = make_ticket_created().model_copy(update={"trace": STORED})
    assert trace.get_current_span().get_span_context().is_valid is False  # e.g. a sweeper
    await wired.publisher.publish_raw(
        topics.TICKETS,
        event.to_bytes(),
        key=b"T-1",
        headers={"content-type": "application/json"},
    )
    [headers] = wired.received.headers
    assert trace_id_of(headers["traceparent"]) == STORED_TRACE_ID
    assert headers["content-type"] == "application/json"
    assert wired.received.trace_ids == [STORED_TRACE_ID]  # the consumer continued it
    producers = [s for s in wired.spans() if s.kind == trace.SpanKind.PRODUCER]
    assert producers
    assert {format(s.context.trace_id, "032x") for s in producers} == {STORED_TRACE_ID}


async def test_the_recorded_trace_wins_over_an_unrelated_active_one(wired: Wired) -> None:
    event = make_ticket_created().model_copy(update={"trace": STORED})
    with wired.provider.get_tracer("t").start_as_current_span("another request"):
        await wired.publisher.publish_raw(topics.TICKETS, event.to_bytes(), key=b"T-1")
    assert trace_id_of(wired.received.headers[0]["traceparent"]) == STORED_TRACE_ID


async def test_a_traceparent_header_given_by_the_caller_wins(wired: Wired) -> None:
    event = make_ticket_created().model_copy(update={"trace": STORED})
    given = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    await wired.publisher.publish_raw(
        topics.TICKETS, event.to_bytes(), key=b"T-1", headers={"traceparent": given}
    )
    assert trace_id_of(wired.received.headers[0]["traceparent"]) == trace_id_of(given)


async def test_bytes_without_a_recorded_trace_continue_the_active_span(wired: Wired) -> None:
    with wired.provider.get_tracer("t").start_as_current_span("request") as span:
        active = format(span.get_span_context().trace_id, "032x")
        await wired.publisher.publish_raw(topics.TICKETS, b'{"not": "an envelope"}', key=b"k")
    assert trace_id_of(wired.received.headers[0]["traceparent"]) == active


async def test_a_new_event_records_the_active_trace_in_its_envelope_and_headers(
    wired: Wired,
) -> None:
    with wired.provider.get_tracer("t").start_as_current_span("handle") as span:
        active = format(span.get_span_context().trace_id, "032x")
        await wired.publisher.publish(topics.TICKETS, make_ticket_created())
    [headers] = wired.received.headers
    assert trace_id_of(headers["traceparent"]) == active
    assert wired.received.trace_ids == [active]
    body = [s for s in wired.spans() if s.kind == trace.SpanKind.CONSUMER]
    assert body


async def test_an_event_given_a_trace_is_published_in_that_trace(wired: Wired) -> None:
    event = make_ticket_created().model_copy(update={"trace": STORED})
    await wired.publisher.publish(topics.TICKETS, event)
    assert trace_id_of(wired.received.headers[0]["traceparent"]) == STORED_TRACE_ID


def test_the_recorded_trace_is_read_only_from_envelopes_that_have_one() -> None:
    assert envelope_trace(make_ticket_created().to_bytes()) is None  # empty trace: not parsed
    assert envelope_trace(b"\xff not json traceparent") is None
    assert envelope_trace(b'{"trace": "traceparent"}') is None
    recorded = envelope_trace(make_ticket_created().model_copy(update={"trace": STORED}).to_bytes())
    assert recorded == STORED
    assert context_from_headers(recorded) is not None
    assert context_from_headers({"traceparent": "00-garbage"}) is None
    assert context_from_headers({}) is None
    assert current_trace_headers() == {}


def test_span_trace_headers_match_what_the_w3c_propagator_writes() -> None:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    from s8_shared.observability.tracing import span_trace_headers

    assert span_trace_headers() == {}  # no active span
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("consume"):
        expected: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(expected)
        assert span_trace_headers() == expected
