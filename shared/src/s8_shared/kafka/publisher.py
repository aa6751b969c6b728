"""Publishing s8 events: the right topic, the partition key, JSON bytes, trace context."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Protocol

from faststream.kafka import KafkaBroker

from s8_shared import topics
from s8_shared.contracts.envelope import Event
from s8_shared.observability.tracing import (
    context_from_headers,
    continued,
    current_trace_headers,
    envelope_trace,
    span_trace_headers,
)
from s8_shared.topics import TopicSpec

JSON_HEADERS = {"content-type": "application/json"}


class Publisher(Protocol):
    """What domain services need to emit events; tests substitute a recorder."""

    async def publish(self, spec: TopicSpec, event: Event[Any]) -> None: ...


class EventPublisher:
    def __init__(self, broker: KafkaBroker, namespace: str = "") -> None:
        self.broker = broker
        self.namespace = namespace
        self._documented: set[str] = set()

    def document(self, spec: TopicSpec, schema: Any) -> None:
        """Declares what this service publishes on `spec`, for its AsyncAPI document."""
        if spec.base_name in self._documented:
            return
        self._documented.add(spec.base_name)
        self.broker.publisher(
            self.topic(spec),
            title=f"{spec.base_name}:publish",
            description=f"{spec.description} Key: {spec.key}.",
            schema=schema,
        )

    def topic(self, spec: TopicSpec) -> str:
        return spec.name(self.namespace)

    async def publish(self, spec: TopicSpec, event: Event[Any]) -> None:
        """Publishes in the trace the envelope names, else in the active one (recorded
        in the envelope too: the trace survives a re-publish or a copy of the payload
        that loses the Kafka headers). The broker's telemetry middleware writes the
        `traceparent` header of its publish span."""
        parent = context_from_headers(event.trace)
        if parent is None and (recorded := current_trace_headers()) != event.trace:
            event = event.model_copy(update={"trace": recorded})
        with continued(parent):
            await self.broker.publish(
                event.to_bytes(),
                self.topic(spec),
                key=event.partition_key(),
                headers={**JSON_HEADERS, "s8-event-type": event.type},
            )

    async def publish_deadletter(self, event: Event[Any], key: bytes | None) -> None:
        await self.broker.publish(
            event.to_bytes(),
            self.topic(topics.DEADLETTER),
            key=key or event.partition_key(),
            headers={**JSON_HEADERS, "s8-event-type": event.type},
        )

    async def send_deadletter(self, event: Event[Any], key: bytes | None) -> Awaitable[Any]:
        """Hands the dead letter to the producer's batch; the returned delivery completes
        when the broker has it (not awaited here: a storm of dead letters is sent in batches).

        It goes to aiokafka's producer directly when the broker exposes it: FastStream's
        publish path runs the tracing and metrics middleware for every record, which cost more
        than handling the bad message (a storm must drain at 1,000/s or more). The dead letter
        is still counted (`s8_dead_letters_total`) and carries the consume span's trace."""
        headers = {
            **JSON_HEADERS,
            "s8-event-type": event.type,
            **span_trace_headers(),
        }
        producer = _aiokafka_producer(self.broker)
        if producer is None:
            delivery = await self.broker.publish(
                event.to_bytes(),
                self.topic(topics.DEADLETTER),
                key=key or event.partition_key(),
                headers=headers,
                no_confirm=True,
            )
            return delivery if isinstance(delivery, Awaitable) else _done(delivery)
        future: Awaitable[Any] = await producer.send(
            self.topic(topics.DEADLETTER),
            value=event.to_bytes(),
            key=key or event.partition_key(),
            headers=[(k, v.encode()) for k, v in headers.items()],
        )
        return future

    async def publish_raw(
        self,
        spec: TopicSpec,
        value: bytes,
        *,
        key: bytes | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Publishes bytes as they are, e.g. an event stored earlier in an outbox.

        The publish continues the trace of the caller's `traceparent` header if it gave
        one, else the trace recorded in the body's envelope (`trace`), else the active
        one; the telemetry middleware then writes `traceparent`/`tracestate` headers
        for the consumers.
        """
        headers = dict(headers or {})
        parent = context_from_headers(headers) or context_from_headers(envelope_trace(value))
        with continued(parent):
            await self.broker.publish(value, self.topic(spec), key=key, headers=headers)


async def _done(value: Any) -> Any:
    return value


def _aiokafka_producer(broker: KafkaBroker) -> Any | None:
    """The started aiokafka producer behind FastStream's broker (0.7's layout), else None."""
    state = getattr(getattr(broker.config, "producer", None), "_producer", None)
    producer = getattr(state, "producer", None)
    return producer if producer is not None and hasattr(producer, "send") else None
