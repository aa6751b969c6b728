"""Traces on the real broker and store: an inbound webhook is one trace from intake's HTTP
request through its Kafka publish, the router's consume and assignment publish, and the
SLA monitor's consume, with MongoDB commands inside it. The three services run in this
process, each with its own tracer provider, all exporting to one in-memory exporter."""

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from s8_intake.app import build as build_intake
from s8_intake.settings import IntakeSettings
from s8_router.app import build as build_router
from s8_router.settings import RouterSettings
from s8_shared import topics
from s8_shared.contracts import ASSIGNMENT_EVENTS, SLA_EVENTS, TICKET_EVENTS, AgentProfile
from s8_shared.runtime import ServiceRuntime
from s8_shared.settings import ServiceSettings
from s8_sla_monitor.app import build as build_sla
from s8_sla_monitor.settings import SlaMonitorSettings
from s8_testing.builders import make_inbound
from s8_testing.harness import TestStack, eventually

pytestmark = pytest.mark.integration

Build = Callable[[Any], tuple[ServiceRuntime, FastAPI]]


@contextlib.asynccontextmanager
async def traced(
    build: Build, settings: ServiceSettings, exporter: InMemorySpanExporter
) -> AsyncIterator[tuple[ServiceRuntime, FastAPI]]:
    runtime, app = build(settings)
    runtime.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    await runtime.start()
    try:
        yield runtime, app
    finally:
        await runtime.stop()


def intake_client(stack: TestStack, app: FastAPI) -> httpx.AsyncClient:
    return stack.client(app, "http://intake")


def service_of(span: ReadableSpan) -> str:
    return str(span.resource.attributes.get("service.name"))


def trace_of(span: ReadableSpan) -> int:
    assert span.context is not None
    return int(span.context.trace_id)


class Spans:
    def __init__(self, exporter: InMemorySpanExporter) -> None:
        self.all = list(exporter.get_finished_spans())

    def find(
        self, service: str, kind: SpanKind, name: str | None = None, **attributes: Any
    ) -> list[ReadableSpan]:
        return [
            s
            for s in self.all
            if service_of(s) == service
            and s.kind == kind
            and (name is None or s.name == name)
            and all((s.attributes or {}).get(k) == v for k, v in attributes.items())
        ]

    def in_trace(self, trace_id: int) -> list[ReadableSpan]:
        return [s for s in self.all if trace_of(s) == trace_id]


def webhook_span(spans: Spans) -> ReadableSpan:
    [server] = [
        s
        for s in spans.find("s8-intake", SpanKind.SERVER)
        if (s.attributes or {}).get("http.route") == "/v1/inbound/{channel}"
    ]
    return server


async def test_an_inbound_webhook_is_one_trace_through_intake_router_and_sla(
    stack: TestStack,
) -> None:
    exporter = InMemorySpanExporter()
    tickets_topic = stack.topic(topics.TICKETS)
    assignments_topic = stack.topic(topics.ASSIGNMENTS)
    async with contextlib.AsyncExitStack() as ctx:
        router, router_app = await ctx.enter_async_context(
            traced(build_router, stack.settings(RouterSettings), exporter)
        )
        sla, _ = await ctx.enter_async_context(
            traced(build_sla, stack.settings(SlaMonitorSettings), exporter)
        )
        _, intake_app = await ctx.enter_async_context(
            traced(build_intake, stack.settings(IntakeSettings), exporter)
        )
        profile = AgentProfile(
            agent_id="an",
            name="An",
            tier="L1",
            presence="online",
            skills=dict.fromkeys(
                ("billing", "shipping", "technical", "warranty", "sales", "account"), 4
            ),
            languages=["vi", "en"],
        )
        await stack.send(topics.AGENTS, profile.model_dump_json().encode(), key=b"an")

        async def on_roster() -> bool:
            return any(a.agent_id == "an" for a in await router_app.state.router.agents.roster())

        await eventually(on_roster, within=30, what="the agent in the router's roster")

        http = await ctx.enter_async_context(intake_client(stack, intake_app))
        message = make_inbound(  # not a FAQ question: a human must take it
            text="Đơn hàng A1023 giao nhầm màu áo, mình cần shop kiểm tra lại.",
            subject="Giao nhầm hàng",
        )
        response = await http.post("/v1/inbound/email", json=message)
        assert response.status_code == 202, response.text
        ticket_id = response.json()["ticket_id"]

        async def assigned() -> bool:
            events = await stack.read_all(topics.ASSIGNMENTS, ASSIGNMENT_EVENTS)
            return any(
                e.type == "ticket.assigned" and e.payload.ticket_id == ticket_id for e in events
            )

        async def clock_started() -> bool:
            events = await stack.read_all(topics.SLA, SLA_EVENTS)
            return any(
                e.type == "sla.clock_started" and e.payload.ticket_id == ticket_id for e in events
            )

        await eventually(assigned, within=30, what="the assignment")
        await eventually(clock_started, within=30, what="the SLA clock")

        async def consumed_by_both() -> Spans | None:
            # A process span ends once its handler has returned (and the offset is committed).
            spans = Spans(exporter)
            done = all(
                spans.find(service, SpanKind.CONSUMER, f"{tickets_topic} process")
                for service in ("s8-router", "s8-sla-monitor")
            )
            return spans if done else None

        spans = await eventually(consumed_by_both, within=15, what="the consumers' spans")
        assert spans is not None

        # The metrics the dashboards read come from the same instrumentation.
        await router.update_consumer_lag()
        group = router.settings.consumer_group(f".{topics.TICKETS.short_name}")
        lags = [
            router.registry.get_sample_value(
                "s8_kafka_consumer_lag",
                {
                    "service": "s8-router",
                    "group": group,
                    "topic": tickets_topic,
                    "partition": str(p),
                },
            )
            for p in range(3)
        ]
        mongo_finds = sum(
            s.value
            for metric in sla.registry.collect()
            for s in metric.samples
            if s.name == "s8_mongo_command_duration_seconds_count" and s.labels["command"] == "find"
        )

    server = webhook_span(spans)
    trace_id = trace_of(server)
    in_trace = spans.in_trace(trace_id)
    by_id = {s.context.span_id: s for s in in_trace if s.context is not None}

    def one_in_trace(service: str, kind: SpanKind, name: str) -> ReadableSpan:
        found = [s for s in spans.find(service, kind, name) if trace_of(s) == trace_id]
        assert found, (
            f"no {kind.name} span {name!r} of {service} in the webhook's trace; spans there: "
            + ", ".join(sorted(f"{service_of(s)}:{s.name}" for s in in_trace))
        )
        return found[0]

    intake_publish = one_in_trace("s8-intake", SpanKind.PRODUCER, f"{tickets_topic} publish")
    router_consume = one_in_trace("s8-router", SpanKind.CONSUMER, f"{tickets_topic} process")
    router_publish = one_in_trace("s8-router", SpanKind.PRODUCER, f"{assignments_topic} publish")
    sla_consume = one_in_trace("s8-sla-monitor", SpanKind.CONSUMER, f"{tickets_topic} process")

    # The consumers continued the context from the Kafka headers intake wrote: their
    # parent is one of intake's spans, not a span of their own making.
    for consume in (router_consume, sla_consume):
        assert consume.parent is not None
        assert consume.parent.is_remote
        assert service_of(by_id[consume.parent.span_id]) == "s8-intake"
    assert intake_publish.start_time is not None
    assert server.end_time is not None
    assert intake_publish.start_time <= server.end_time  # published within the request
    assert router_publish.parent is not None

    for service in ("s8-intake", "s8-router", "s8-sla-monitor"):
        mongo = [
            s
            for s in in_trace
            if service_of(s) == service
            and s.kind == SpanKind.CLIENT
            and (s.attributes or {}).get("db.system") == "mongodb"
        ]
        assert mongo, f"no MongoDB span of {service} in the webhook's trace"

    assert any(lag is not None for lag in lags), lags
    assert mongo_finds > 0


async def test_an_event_published_later_by_the_outbox_sweeper_stays_in_its_trace(
    stack: TestStack,
) -> None:
    """A crash between storing and publishing: the sweeper, outside any request, publishes
    the event in the trace of the request that created it (recorded in its envelope)."""
    exporter = InMemorySpanExporter()
    tickets_topic = stack.topic(topics.TICKETS)
    async with traced(build_intake, stack.settings(IntakeSettings), exporter) as (runtime, app):
        async with intake_client(stack, app) as http:
            response = await http.post("/v1/inbound/email", json=make_inbound())
        assert response.status_code == 202, response.text
        ticket_id = response.json()["ticket_id"]
        [lost] = await stack.read_all(topics.TICKETS, TICKET_EVENTS)
        assert lost.trace.get("traceparent")
        await stack.db(runtime.settings).tickets.update_one(
            {"_id": ticket_id},
            {
                "$set": {
                    "has_outbox": True,
                    "outbox": [
                        {
                            "event_id": "e-lost",
                            "topic": topics.TICKETS.base_name,
                            "key": ticket_id,
                            "body": lost.model_dump_json(),
                        }
                    ],
                }
            },
        )
        await (
            app.state.intake.publishing.sweep_outboxes()
        )  # the periodic sweeper may have got there first

        async def republished() -> Spans | None:
            spans = Spans(exporter)
            name = f"{tickets_topic} publish"
            return spans if len(spans.find("s8-intake", SpanKind.PRODUCER, name)) >= 2 else None

        spans = await eventually(republished, within=20, what="the sweeper's publish")
        assert spans is not None

    trace_id = trace_of(webhook_span(spans))
    publishes = spans.find("s8-intake", SpanKind.PRODUCER, f"{tickets_topic} publish")
    assert len(publishes) == 2
    assert {trace_of(s) for s in publishes} == {trace_id}
