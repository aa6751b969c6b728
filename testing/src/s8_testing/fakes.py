"""Fakes for unit tests (integration tests use the real broker and store)."""

from __future__ import annotations

from typing import Any

from s8_shared.contracts.envelope import Event
from s8_shared.topics import TopicSpec


class RecordingPublisher:
    """Collects published events per topic instead of sending them."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Event[Any]]] = []
        self.fail_next: Exception | None = None

    def topic(self, spec: TopicSpec) -> str:
        return spec.name()

    async def publish(self, spec: TopicSpec, event: Event[Any]) -> None:
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        self.sent.append((spec.base_name, event))

    async def publish_deadletter(self, event: Event[Any], key: bytes | None) -> None:
        self.sent.append(("support.deadletter.v1", event))

    async def send_deadletter(self, event: Event[Any], key: bytes | None) -> None:
        await self.publish_deadletter(event, key)

    def on(self, topic: str) -> list[Event[Any]]:
        return [event for name, event in self.sent if name == topic]
