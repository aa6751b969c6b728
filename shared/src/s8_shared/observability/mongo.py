"""MongoDB command monitoring: a span per command inside a trace, and a latency histogram.

PyMongo calls a `CommandListener` synchronously, in the task that runs the command, so
the active span there is the caller's (an HTTP request, a Kafka message being processed)
and the command's span becomes its child. Commands outside any trace (periodic jobs,
the driver's own housekeeping) are measured but get no span: a root span per poll would
bury the traces worth reading. No command document is recorded (it holds customer data).
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import CollectorRegistry, Histogram
from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)

# Most commands on a healthy store take well under a millisecond to tens of milliseconds.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# A span left open by a command whose outcome never arrived is dropped past this many.
MAX_OPEN_SPANS = 10_000

SpanKey = tuple[int, Any]


class MongoCommandMonitor(CommandListener):
    """Pass as `event_listeners=[monitor]` to the client; one per client."""

    def __init__(
        self,
        service: str,
        *,
        registry: CollectorRegistry | None,
        tracer_provider: trace.TracerProvider | None,
    ) -> None:
        self.service = service
        self.duration = Histogram(
            "s8_mongo_command_duration_seconds",
            "Duration of MongoDB commands as the driver measured them, by command name and "
            "collection (empty for commands on no collection).",
            ["service", "command", "collection"],
            registry=registry,
            buckets=BUCKETS,
        )
        self.tracer = trace.get_tracer("s8_shared.mongo", tracer_provider=tracer_provider)
        self._spans: dict[SpanKey, trace.Span] = {}
        # The collection of each command in flight: the outcome events do not carry it.
        self._collections: dict[SpanKey, str] = {}

    @staticmethod
    def _key(event: CommandStartedEvent | CommandSucceededEvent | CommandFailedEvent) -> SpanKey:
        return (event.request_id, event.connection_id)

    def started(self, event: CommandStartedEvent) -> None:
        name = event.command_name
        collection = event.command.get(name)
        if isinstance(collection, str) and len(self._collections) < MAX_OPEN_SPANS:
            self._collections[self._key(event)] = collection
        if not trace.get_current_span().get_span_context().is_valid:
            return
        if len(self._spans) >= MAX_OPEN_SPANS:
            return
        attributes: dict[str, str | int] = {
            "db.system": "mongodb",
            "db.name": event.database_name,
            "db.operation": name,
        }
        if isinstance(collection, str):
            attributes["db.mongodb.collection"] = collection
            span_name = f"{name} {event.database_name}.{collection}"
        else:
            span_name = f"{name} {event.database_name}"
        host, port = _address(event.connection_id)
        if host:
            attributes["server.address"] = host
        if port:
            attributes["server.port"] = port
        span = self.tracer.start_span(span_name, kind=SpanKind.CLIENT, attributes=attributes)
        self._spans[self._key(event)] = span

    def _observe(self, event: CommandSucceededEvent | CommandFailedEvent) -> None:
        collection = self._collections.pop(self._key(event), "")
        self.duration.labels(self.service, event.command_name, collection).observe(
            event.duration_micros / 1e6
        )

    def succeeded(self, event: CommandSucceededEvent) -> None:
        self._observe(event)
        span = self._spans.pop(self._key(event), None)
        if span is not None:
            span.end()

    def failed(self, event: CommandFailedEvent) -> None:
        self._observe(event)
        span = self._spans.pop(self._key(event), None)
        if span is not None:
            failure = event.failure if isinstance(event.failure, dict) else {}
            code = failure.get("code")
            if code is not None:
                span.set_attribute("db.response.status_code", str(code))
            span.set_status(Status(StatusCode.ERROR, str(failure.get("errmsg", ""))[:200]))
            span.end()


def _address(connection_id: object) -> tuple[str | None, int | None]:
    if isinstance(connection_id, tuple) and len(connection_id) == 2:
        host, port = connection_id
        return (str(host) if host else None, port if isinstance(port, int) else None)
    return (None, None)
