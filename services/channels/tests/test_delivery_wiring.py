"""The delivery wiring on the service runtime (FastStream's test broker, in-memory stores):
the outbound topic's requests are recorded once, the outcomes this service publishes on the
same topic are skipped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from faststream.kafka import TestKafkaBroker

from s8_channels.adapters.customer_upserts import CustomerUpserts
from s8_channels.adapters.delivery_handlers import register_delivery
from s8_channels.adapters.inbound_sink import InboundSink
from s8_channels.adapters.recipients import Recipients
from s8_channels.context import Channels
from s8_channels.metrics import ChannelMetrics
from s8_channels.settings import ChannelsSettings
from s8_shared import topics
from s8_shared.contracts import (
    Channel,
    Language,
    OutboundMessagePayload,
    OutboundMessageRequested,
    deterministic_id,
)
from s8_shared.contracts.outbound import OutboundDelivered, OutboundDeliveryPayload
from s8_shared.runtime import ServiceRuntime
from s8_testing.channels_fakes import InMemoryDeliveryStore

T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


class MemoryProcessed:
    """Stands in for `ProcessedEvents` (the event ids applied), without a store."""

    def __init__(self) -> None:
        self.ids: set[str] = set()

    async def seen_among(self, event_ids: Sequence[str]) -> set[str]:
        return self.ids & set(event_ids)

    async def remember_all(self, applied: Sequence[tuple[str, str]]) -> None:
        self.ids.update(event_id for event_id, _ in applied)


def request(outbound_id: str, event_id: str) -> OutboundMessageRequested:
    return OutboundMessageRequested(
        event_id=deterministic_id("test", event_id),
        occurred_at=T0,
        producer="s8-intake",
        payload=OutboundMessagePayload(
            outbound_id=outbound_id,
            customer_id="C-1",
            channel=Channel.EMAIL,
            to="lan@example.vn",
            language=Language.EN,
            kind="reply",
            text="Hello",
        ),
    )


async def test_requests_on_the_outbound_topic_are_recorded_once_and_outcomes_skipped() -> None:
    settings = ChannelsSettings(topic_namespace="t-", smtp_relay_host="127.0.0.1")
    runtime = ServiceRuntime(settings, title="t", description="t")
    runtime.processed = MemoryProcessed()  # type: ignore[assignment]
    channels = Channels(
        settings=settings,
        sink=InboundSink(runtime.publisher, runtime.store),
        metrics=ChannelMetrics(runtime.registry),
        recipients=Recipients(runtime.store),
        customers=CustomerUpserts(runtime.publisher),
    )
    store = InMemoryDeliveryStore()
    register_delivery(runtime, channels, store)
    outcome = OutboundDelivered(
        producer="s8-channels",
        payload=OutboundDeliveryPayload(
            outbound_id="ob-9", customer_id="C-1", channel=Channel.EMAIL, to="x@y.z",
            provider="smtp", attempts=1,
        ),
    )  # fmt: skip
    topic = runtime.topic(topics.OUTBOUND)
    async with TestKafkaBroker(runtime.broker) as broker:
        for event in (request("ob-1", "e1"), request("ob-1", "e1"), request("ob-1", "e2"), outcome):
            await broker.publish(event.to_bytes(), topic, key=b"C-1")
    assert set(store.docs) == {"ob-1"}
    assert store.docs["ob-1"]["state"] == "pending"
    skipped = runtime.registry.get_sample_value(
        "s8_events_processed_total",
        {
            "service": "s8-channels",
            "topic": topic,
            "type": "outbound.delivered",
            "outcome": "skipped",
        },
    )
    assert skipped == 1
    await runtime.store.close()
