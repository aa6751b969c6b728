"""Kafka handlers: decode, call the service, done."""

from __future__ import annotations

from faststream.kafka.annotations import KafkaMessage

from s8_intake.service import IntakeService, decode_inbound
from s8_shared import topics
from s8_shared.runtime import ServiceRuntime


def register_handlers(runtime: ServiceRuntime, service: IntakeService) -> None:
    @runtime.subscriber(topics.INBOUND)
    async def on_inbound(msg: KafkaMessage) -> None:
        """A customer message from any channel becomes (or joins) a ticket."""
        accepted = await service.accept(decode_inbound(msg.body))
        outcome = "duplicate" if accepted.duplicate else "applied"
        runtime.stats.count(runtime.topic(topics.INBOUND), "inbound", outcome)
