"""Consumer lag from the subscribers' aiokafka consumers: per group and partition, and
never an error when a consumer is not ready."""

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError
from prometheus_client import CollectorRegistry

from s8_shared.observability import kafka_lag
from s8_shared.observability.kafka_lag import ConsumerLag

T0 = TopicPartition("support.tickets.v1", 0)
T1 = TopicPartition("support.tickets.v1", 1)
A0 = TopicPartition("support.agents.v1", 0)


@dataclass
class FakeConsumer:
    """What the lag reader uses of `AIOKafkaConsumer`."""

    highwaters: dict[TopicPartition, int | None] = field(default_factory=dict)
    positions: dict[TopicPartition, int] = field(default_factory=dict)
    hang: set[TopicPartition] = field(default_factory=set)
    broken: bool = False

    def assignment(self) -> frozenset[TopicPartition]:
        if self.broken:
            raise RuntimeError("consumer stopped")
        return frozenset(self.highwaters)

    def highwater(self, tp: TopicPartition) -> int | None:
        assert tp in self.highwaters, "Partition is not assigned"
        return self.highwaters[tp]

    async def position(self, tp: TopicPartition) -> int:
        if tp in self.hang:
            await asyncio.sleep(60)  # no valid position yet: aiokafka waits for one
        if tp not in self.positions:
            raise IllegalStateError(f"Partition {tp} is not assigned")
        return self.positions[tp]


@dataclass
class FakeSubscriber:
    group_id: str | None
    consumer: Any = None


def lag(registry: CollectorRegistry, group: str, tp: TopicPartition) -> float | None:
    return registry.get_sample_value(
        "s8_kafka_consumer_lag",
        {"service": "s8-router", "group": group, "topic": tp.topic, "partition": str(tp.partition)},
    )


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def reader(registry: CollectorRegistry) -> ConsumerLag:
    return ConsumerLag("s8-router", registry)


async def test_lag_is_highwater_minus_position_per_group_topic_and_partition(
    reader: ConsumerLag, registry: CollectorRegistry
) -> None:
    tickets = FakeConsumer({T0: 120, T1: 40}, {T0: 100, T1: 40})
    agents = FakeConsumer({A0: 9}, {A0: 3})
    await reader.update(
        [
            FakeSubscriber("s8-router.tickets", tickets),
            FakeSubscriber("s8-router.agents", agents),
        ]
    )
    assert lag(registry, "s8-router.tickets", T0) == 20
    assert lag(registry, "s8-router.tickets", T1) == 0
    assert lag(registry, "s8-router.agents", A0) == 6


async def test_consumers_that_are_not_ready_report_nothing_and_raise_nothing(
    reader: ConsumerLag, registry: CollectorRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kafka_lag, "POSITION_TIMEOUT_SECONDS", 0.05)
    not_started = FakeSubscriber("g.none", None)
    stopped = FakeSubscriber("g.stopped", FakeConsumer(broken=True))
    not_fetched = FakeSubscriber("g.unfetched", FakeConsumer({T0: None}, {T0: 0}))
    no_position = FakeSubscriber("g.waiting", FakeConsumer({T0: 10}, {}, hang={T0}))
    revoked = FakeSubscriber("g.revoked", FakeConsumer({T0: 10}, {}))
    healthy = FakeSubscriber("g.ok", FakeConsumer({T1: 5}, {T1: 2}))
    seen = await reader.update([not_started, stopped, not_fetched, no_position, revoked, healthy])
    assert seen == {("g.ok", T1.topic, "1"): 3}
    assert lag(registry, "g.ok", T1) == 3
    assert lag(registry, "g.waiting", T0) is None


async def test_a_partition_revoked_in_a_rebalance_stops_being_reported(
    reader: ConsumerLag, registry: CollectorRegistry
) -> None:
    consumer = FakeConsumer({T0: 10, T1: 10}, {T0: 4, T1: 10})
    subscriber = FakeSubscriber("g", consumer)
    await reader.update([subscriber])
    assert lag(registry, "g", T0) == 6
    del consumer.highwaters[T0]  # now another replica's
    await reader.update([subscriber])
    assert lag(registry, "g", T0) is None
    assert lag(registry, "g", T1) == 0


async def test_concurrent_subscribers_report_each_of_their_consumers(
    reader: ConsumerLag, registry: CollectorRegistry
) -> None:
    subscriber = FakeSubscriber("g", None)
    subscriber.consumer_subgroup = [  # type: ignore[attr-defined]
        FakeConsumer({T0: 8}, {T0: 1}),
        FakeConsumer({T1: 3}, {T1: 3}),
    ]
    await reader.update([subscriber])
    assert lag(registry, "g", T0) == 7
    assert lag(registry, "g", T1) == 0
