"""Consumer lag per group and partition, read from the service's own Kafka consumers.

Lag is the partition's high watermark (offset of the next record to be produced, as the
last fetch reported it) minus the consumer's position (offset of the next record it will
hand to the handler). Both are held by the aiokafka consumer, so an update costs no
request to the broker. A consumer that is not started, is rebalancing or has not fetched
a partition yet simply reports nothing for it; an update never raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

log = logging.getLogger("s8.kafka.lag")

# A position the consumer does not know yet (right after an assignment) is awaited at most this long.
POSITION_TIMEOUT_SECONDS = 0.5

LagKey = tuple[str, str, str]  # group, topic, partition


class ConsumerLag:
    def __init__(self, service: str, registry: CollectorRegistry | None) -> None:
        self.service = service
        self.gauge = Gauge(
            "s8_kafka_consumer_lag",
            "Records not yet handed to this service's consumer: high watermark minus position.",
            ["service", "group", "topic", "partition"],
            registry=registry,
        )
        self._reported: set[LagKey] = set()

    async def update(self, subscribers: Iterable[Any]) -> dict[LagKey, int]:
        """Reads every started subscriber's consumer; returns what it set."""
        seen: dict[LagKey, int] = {}
        for subscriber in subscribers:
            for consumer in _consumers(subscriber):
                group = str(getattr(subscriber, "group_id", None) or "")
                seen.update(await _consumer_lag(consumer, group))
        for key, lag in seen.items():
            self.gauge.labels(self.service, *key).set(lag)
        for key in self._reported - seen.keys():
            # A partition revoked in a rebalance is another replica's to report.
            with contextlib.suppress(KeyError):
                self.gauge.remove(self.service, *key)
        self._reported = set(seen)
        return seen


def _consumers(subscriber: Any) -> list[Any]:
    """FastStream 0.7 Kafka subscribers hold their started aiokafka consumer in `consumer`
    (None before start and after stop); concurrent ones keep several in `consumer_subgroup`."""
    group = getattr(subscriber, "consumer_subgroup", None)
    if group:
        return [c for c in group if c is not None]
    consumer = getattr(subscriber, "consumer", None)
    return [consumer] if consumer is not None else []


async def _consumer_lag(consumer: Any, group: str) -> dict[LagKey, int]:
    lags: dict[LagKey, int] = {}
    try:
        assignment = list(consumer.assignment())
    except Exception:  # not started, stopped meanwhile, or mid-rebalance
        return lags
    for tp in assignment:
        try:
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue  # nothing fetched from this partition yet
            position = await asyncio.wait_for(consumer.position(tp), POSITION_TIMEOUT_SECONDS)
        except Exception:
            continue  # revoked between the two calls, or the position is not known yet
        lags[(group, tp.topic, str(tp.partition))] = max(0, int(highwater) - int(position))
    return lags
