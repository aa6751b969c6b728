"""MongoDB command monitoring: latency for every command, a span only inside a trace."""

from datetime import timedelta

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import CollectorRegistry
from pymongo.monitoring import CommandFailedEvent, CommandStartedEvent, CommandSucceededEvent

from s8_shared.observability.mongo import MongoCommandMonitor

ADDRESS = ("127.0.0.1", 27017)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def monitor(registry: CollectorRegistry, provider: TracerProvider) -> MongoCommandMonitor:
    return MongoCommandMonitor("s8-test", registry=registry, tracer_provider=provider)


def started(request_id: int, command: dict[str, object]) -> CommandStartedEvent:
    return CommandStartedEvent(command, "s8_test", request_id, ADDRESS, operation_id=request_id)


def succeeded(request_id: int, name: str, millis: float) -> CommandSucceededEvent:
    return CommandSucceededEvent(
        timedelta(milliseconds=millis), {"ok": 1}, name, request_id, ADDRESS, request_id
    )


def failed(request_id: int, name: str, millis: float) -> CommandFailedEvent:
    return CommandFailedEvent(
        timedelta(milliseconds=millis),
        {"ok": 0, "code": 11000, "errmsg": "E11000 duplicate key"},
        name,
        request_id,
        ADDRESS,
        request_id,
    )


def count(registry: CollectorRegistry, command: str, collection: str = "tickets") -> float:
    value = registry.get_sample_value(
        "s8_mongo_command_duration_seconds_count",
        {"service": "s8-test", "command": command, "collection": collection},
    )
    return value or 0.0


def duration_sum(registry: CollectorRegistry, command: str) -> float:
    value = registry.get_sample_value(
        "s8_mongo_command_duration_seconds_sum",
        {"service": "s8-test", "command": command, "collection": "tickets"},
    )
    return value or 0.0


def test_every_command_is_timed_by_name_and_collection_even_outside_a_trace(
    monitor: MongoCommandMonitor, registry: CollectorRegistry, exporter: InMemorySpanExporter
) -> None:
    monitor.started(started(1, {"find": "tickets", "filter": {"_id": "T-1"}}))
    monitor.succeeded(succeeded(1, "find", 3.0))
    monitor.started(started(2, {"insert": "tickets", "documents": [{}]}))
    monitor.failed(failed(2, "insert", 1.5))
    assert count(registry, "find") == 1
    assert duration_sum(registry, "find") == pytest.approx(0.003)
    assert count(registry, "insert") == 1
    assert duration_sum(registry, "insert") == pytest.approx(0.0015)
    assert exporter.get_finished_spans() == ()  # no parent span: no root span per poll


def test_inside_a_trace_each_command_is_a_client_span_of_the_caller(
    monitor: MongoCommandMonitor, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("handle message") as parent:
        monitor.started(started(7, {"findAndModify": "routing", "query": {"secret": "x"}}))
        monitor.started(started(8, {"ping": 1}))
        monitor.succeeded(succeeded(8, "ping", 0.2))
        monitor.failed(failed(7, "findAndModify", 2.0))
    spans = {s.name: s for s in exporter.get_finished_spans()}
    modify = spans["findAndModify s8_test.routing"]
    ping = spans["ping s8_test"]
    for span in (modify, ping):
        assert span.kind == SpanKind.CLIENT
        assert span.parent is not None
        assert span.parent.span_id == parent.get_span_context().span_id
        assert span.context.trace_id == parent.get_span_context().trace_id
        assert span.attributes is not None
        assert span.attributes["db.system"] == "mongodb"
        assert span.attributes["server.port"] == 27017
    assert modify.attributes is not None
    assert modify.attributes["db.mongodb.collection"] == "routing"
    assert "secret" not in str(modify.attributes)  # the command document is not recorded
    assert modify.status.status_code == StatusCode.ERROR
    assert modify.attributes["db.response.status_code"] == "11000"
    assert ping.status.status_code == StatusCode.UNSET


def test_an_outcome_without_a_start_is_still_timed(
    monitor: MongoCommandMonitor, registry: CollectorRegistry
) -> None:
    monitor.succeeded(succeeded(99, "getMore", 1.0))
    assert count(registry, "getMore", collection="") == 1
