"""Intake's Kafka wiring on FastStream's in-memory TestKafkaBroker (fast, no servers).

The same flows run on the real broker and store in the root `tests/` suite.
"""

import json
import logging
from typing import Any

import pytest
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from s8_intake.adapters.handlers import register_handlers
from s8_intake.adapters.memory_repository import InMemoryTicketRepository
from s8_intake.service import IntakeService
from s8_intake.settings import IntakeSettings
from s8_shared import topics
from s8_shared.contracts import DEADLETTER_EVENTS, TICKET_EVENTS
from s8_shared.observability.logging import TraceContextFilter
from s8_shared.runtime import ServiceRuntime
from s8_shared.testing.builders import make_inbound


def build_runtime() -> tuple[ServiceRuntime, InMemoryTicketRepository, dict[str, list[Any]]]:
    runtime = ServiceRuntime(
        IntakeSettings(max_delivery_attempts=2, retry_backoff_seconds=0), title="t", description="t"
    )
    repo = InMemoryTicketRepository()
    register_handlers(runtime, IntakeService(repo, runtime.publisher))
    seen: dict[str, list[Any]] = {"tickets": [], "deadletters": []}

    @runtime.broker.subscriber(topics.TICKETS.name(), group_id="test-capture")
    async def capture_tickets(msg: KafkaMessage) -> None:
        seen["tickets"].append(TICKET_EVENTS.decode(msg.body))

    @runtime.broker.subscriber(topics.DEADLETTER.name(), group_id="test-capture")
    async def capture_deadletters(msg: KafkaMessage) -> None:
        seen["deadletters"].append(DEADLETTER_EVENTS.decode(msg.body))

    return runtime, repo, seen


async def test_inbound_message_becomes_ticket_created_on_the_tickets_topic() -> None:
    runtime, repo, seen = build_runtime()
    async with TestKafkaBroker(runtime.broker) as broker:
        await broker.publish(json.dumps(make_inbound()).encode(), topics.INBOUND.name(), key=b"k")
    assert len(repo.tickets) == 1
    [event] = seen["tickets"]
    assert event.type == "ticket.created"


async def test_invalid_inbound_goes_to_dead_letters_and_the_next_message_still_flows() -> None:
    runtime, repo, seen = build_runtime()
    bad = json.dumps({"channel": "fax", "text": "hello"}).encode()
    async with TestKafkaBroker(runtime.broker) as broker:
        await broker.publish(bad, topics.INBOUND.name(), key=b"k")
        await broker.publish(json.dumps(make_inbound()).encode(), topics.INBOUND.name(), key=b"k")
    [dead] = seen["deadletters"]
    assert dead.payload.error_type == "invalid"
    assert "channel" in dead.payload.reason
    assert dead.payload.original_bytes() == bad
    assert dead.payload.service == "s8-intake"
    assert len(repo.tickets) == 1


async def test_events_and_logs_carry_the_trace_of_the_consumed_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runtime, _, seen = build_runtime()
    caplog.set_level(logging.INFO, logger="s8.intake")
    trace_filter = TraceContextFilter("s8-intake")
    caplog.handler.addFilter(trace_filter)
    try:
        async with TestKafkaBroker(runtime.broker) as broker:
            raw = json.dumps(make_inbound()).encode()
            await broker.publish(raw, topics.INBOUND.name(), key=b"k")
            await broker.publish(raw, topics.INBOUND.name(), key=b"k")  # logs "duplicate"
    finally:
        caplog.handler.removeFilter(trace_filter)
    [event] = seen["tickets"]
    traceparent = event.trace["traceparent"]
    assert len(traceparent.split("-")[1]) == 32
    [record] = [r for r in caplog.records if "duplicate" in r.getMessage()]
    assert getattr(record, "trace_id", None) is not None
