"""Kafka handlers: decode, call the service, done."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from s8_intake.domain.status import TransitionRefused
from s8_intake.service import IntakeService, TicketNotFound, decode_inbound
from s8_shared import topics
from s8_shared.contracts import ACTION_ADAPTER, SURVEY_EVENTS, CustomerProfileUpsert, InvalidMessage
from s8_shared.contracts.envelope import load_json_object, validation_reason
from s8_shared.handling import EventApplier
from s8_shared.kafka.message import KafkaMessage
from s8_shared.runtime import ServiceRuntime


def register_handlers(runtime: ServiceRuntime, service: IntakeService) -> None:
    inbound_topic = runtime.topic(topics.INBOUND)
    actions_topic = runtime.topic(topics.ACTIONS)
    customers_topic = runtime.topic(topics.CUSTOMERS)

    @runtime.subscriber(topics.INBOUND)
    async def on_inbound(body: bytes) -> None:
        """A customer message from any channel becomes (or joins) a ticket."""
        accepted = await service.accept(decode_inbound(body))
        runtime.stats.count(
            inbound_topic, "inbound", "duplicate" if accepted.duplicate else "applied"
        )

    @runtime.subscriber(topics.ACTIONS)
    async def on_action(msg: KafkaMessage) -> None:
        """An agent action; a refused one is dead-lettered with the state machine's reason."""
        try:
            action = ACTION_ADAPTER.validate_python(load_json_object(msg.body))
        except ValidationError as exc:
            raise InvalidMessage(f"invalid action: {validation_reason(exc)}") from exc
        try:
            await service.act(action)
        except TransitionRefused as refused:
            service.metrics.refused.labels(action.kind).inc()
            raise InvalidMessage(f"action refused: {refused.reason}") from refused
        except TicketNotFound as missing:
            raise InvalidMessage(f"no ticket {missing}") from missing
        runtime.stats.count(actions_topic, action.kind, "applied")

    surveys = EventApplier(
        SURVEY_EVENTS, runtime.processed, runtime.stats, runtime.topic(topics.SURVEYS)
    )

    @runtime.subscriber(topics.SURVEYS)
    async def on_survey_event(msg: KafkaMessage) -> None:
        """An unhappy CSAT or NPS answer opens a follow-up ticket for a senior agent."""

        async def effect(event: Any) -> None:
            if event.type == "survey.followup_requested":
                await service.open_followup(event.payload)

        await surveys(msg.body, effect)

    @runtime.subscriber(topics.CUSTOMERS)
    async def on_customer(msg: KafkaMessage) -> None:
        """Customer attributes (tier, language, region) from a CRM."""
        try:
            upsert = CustomerProfileUpsert.model_validate(load_json_object(msg.body))
        except ValidationError as exc:
            raise InvalidMessage(f"invalid customer upsert: {validation_reason(exc)}") from exc
        if await runtime.processed.seen(f"upsert:{upsert.upsert_id}"):
            runtime.stats.count(customers_topic, "customer", "duplicate")
            return
        await service.upsert_customer(upsert)
        await runtime.processed.remember(f"upsert:{upsert.upsert_id}", type="customer.upsert")
        runtime.stats.count(customers_topic, "customer", "applied")
