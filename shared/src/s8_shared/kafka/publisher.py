"""Publishing s8 events: the right topic, the partition key, JSON bytes, trace context."""

from __future__ import annotations

from typing import Any, Protocol

from faststream.kafka import KafkaBroker

from s8_shared import topics
from s8_shared.contracts.envelope import Event
from s8_shared.observability.tracing import current_trace_headers
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
        if not event.trace:
            # Record the producing span in the envelope too: the trace survives a
            # re-publish or a copy of the payload that loses the Kafka headers.
            event = event.model_copy(update={"trace": current_trace_headers()})
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

    async def publish_raw(
        self,
        spec: TopicSpec,
        value: bytes,
        *,
        key: bytes | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        await self.broker.publish(value, self.topic(spec), key=key, headers=headers or {})
