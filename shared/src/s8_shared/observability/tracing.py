"""OpenTelemetry tracer provider: spans always recorded, exported only when configured."""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def make_tracer_provider(service: str, otlp_endpoint: str | None) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def current_trace_headers() -> dict[str, str]:
    """W3C trace context of the active span, to record in an event's envelope."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)
