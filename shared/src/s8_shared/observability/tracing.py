"""OpenTelemetry: one tracer provider per service process, spans always recorded,
exported over OTLP/HTTP only when `S8_OTEL_EXPORTER_OTLP_ENDPOINT` is set.

Where spans come from (one trace runs across services through Kafka headers):
- HTTP server spans: FastAPI instrumentation (`instrument_http`);
- Kafka produce and process spans: FastStream's `KafkaTelemetryMiddleware` in the broker
  factory; it writes `traceparent` into the headers of every message it publishes and
  continues the trace of the headers it consumes;
- MongoDB command spans: `observability.mongo.MongoCommandMonitor`.
An event also records the W3C context of its producing span in its envelope (`trace`), so
an event published later (from an outbox, by a sweeper) continues the trace it began in.

Sampling and exporter details follow the standard `OTEL_*` variables the SDK reads
(`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`, `OTEL_EXPORTER_OTLP_HEADERS`,
`OTEL_RESOURCE_ATTRIBUTES`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from opentelemetry import context, propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

if TYPE_CHECKING:
    from fastapi import FastAPI

# Probes and scrapes would otherwise make a trace every few seconds.
UNTRACED_PATHS = "/healthz$,/readyz$,/metrics$,/asyncapi.json$"


def make_tracer_provider(
    service: str, otlp_endpoint: str | None, *, environment: str | None = None
) -> TracerProvider:
    attributes = {"service.name": service, "service.namespace": "s8"}
    if environment:
        attributes["deployment.environment"] = environment
    provider = TracerProvider(resource=Resource.create(attributes))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def instrument_http(app: FastAPI, tracer_provider: TracerProvider) -> None:
    """A server span per HTTP request (continuing a caller's `traceparent`), except probes."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=tracer_provider,
        excluded_urls=UNTRACED_PATHS,
        exclude_spans=["receive", "send"],
    )


def current_trace_headers() -> dict[str, str]:
    """W3C trace context of the active span, to record in an event's envelope."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def span_trace_headers() -> dict[str, str]:
    """`traceparent` (and `tracestate`) of the active span alone, formatted directly: the
    global propagators (baggage included) cost more than a dead letter in a storm."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return {}
    headers = {
        "traceparent": f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}"
        f"-{span_context.trace_flags:02x}"
    }
    if span_context.trace_state:
        headers["tracestate"] = span_context.trace_state.to_header()
    return headers


def context_from_headers(carrier: Mapping[str, str] | None) -> Context | None:
    """The context a W3C carrier (`traceparent`, `tracestate`, `baggage`) names, or None
    when it names no valid span."""
    if not carrier or "traceparent" not in carrier:
        return None
    extracted = propagate.extract(carrier)
    if not trace.get_current_span(extracted).get_span_context().is_valid:
        return None
    return extracted


def envelope_trace(value: bytes) -> dict[str, str] | None:
    """The `trace` recorded in a serialized event envelope, if any.

    Bodies without the word `traceparent` are not parsed at all.
    """
    if b'"traceparent"' not in value:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    recorded = data.get("trace") if isinstance(data, dict) else None
    if not isinstance(recorded, dict):
        return None
    return {k: v for k, v in recorded.items() if isinstance(k, str) and isinstance(v, str)}


@contextlib.contextmanager
def continued(parent: Context | None) -> Iterator[None]:
    """Makes `parent` the active context inside the block (no-op for None), so spans
    started there, e.g. FastStream's publish span, join that trace."""
    if parent is None:
        yield
        return
    token = context.attach(parent)
    try:
        yield
    finally:
        context.detach(token)


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)
