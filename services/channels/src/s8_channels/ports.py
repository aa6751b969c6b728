"""The channels service's ports: what its application services need from Kafka, the store
and the platforms, each implemented by an adapter (`adapters/`) and by fakes in the tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from s8_channels.adapters.delivery_store import Claimed, NewDelivery
from s8_channels.adapters.recipients import Recipient
from s8_channels.domain.delivery import Delivery, SentReceipt
from s8_shared import topics
from s8_shared.contracts import Event
from s8_shared.outbox import OutboxItem
from s8_shared.topics import TopicSpec


class RawPublisher(Protocol):
    async def publish_raw(
        self,
        spec: topics.TopicSpec,
        value: bytes,
        *,
        key: bytes | None,
        headers: dict[str, str] | None = None,
    ) -> None: ...


class EventSink(Protocol):
    """`s8_shared.kafka.publisher.EventPublisher`."""

    async def publish(self, spec: TopicSpec, event: Event[Any]) -> None: ...

    async def publish_deadletter(self, event: Event[Any], key: bytes | None) -> None: ...


class RecipientLookup(Protocol):
    """`s8_channels.adapters.recipients.Recipients`."""

    async def find(self, channel: str, address: str) -> Recipient | None: ...


class Sender(Protocol):
    """Sends one message on one platform, raising TransientError or PermanentError."""

    async def send(self, delivery: Delivery) -> SentReceipt: ...


class DeliveryStore(Protocol):
    async def record(self, delivery: NewDelivery) -> bool:
        """True when recorded now; False when this outbound id was recorded before."""
        ...

    async def claim_due(
        self, now: datetime, lease: timedelta, claim: str, owner: str
    ) -> Claimed | None: ...

    async def reschedule(
        self, outbound_id: str, claim: str, at: datetime, error: str, provider: str
    ) -> bool: ...

    async def finish(
        self,
        outbound_id: str,
        claim: str,
        state: str,
        fields: dict[str, Any],
        events: Sequence[OutboxItem],
    ) -> bool:
        """Marks the delivery `state` (delivered or failed) with `fields` and its events in
        the outbox; False when the claim is no longer the delivery's (another took it)."""
        ...

    async def outbox_items(self, outbound_id: str) -> list[OutboxItem]: ...

    async def remove_from_outbox(self, outbound_id: str, event_ids: Sequence[str]) -> None: ...

    async def with_outbox(self, limit: int = 100) -> list[str]: ...

    async def purge_finished(self, before: datetime) -> int: ...
