"""Kafka handlers: decode, call the application service, done."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from s8_intake.domain.status import TransitionRefused
from s8_intake.ports import TicketNotFound
from s8_intake.service.accepting import Accepting, decode_inbound
from s8_intake.service.actions import Actions
from s8_intake.service.customers import CustomerDesk
from s8_intake.service.followups import FollowUps
from s8_shared import topics
from s8_shared.contracts import (
    ACTION_ADAPTER,
    SURVEY_EVENTS,
    CustomerProfileUpsert,
    Event,
    InvalidMessage,
)
from s8_shared.contracts.envelope import load_json_object, validation_reason
from s8_shared.contracts.surveys import SurveyFollowupRequested
from s8_shared.runtime import ServiceRuntime


def register_handlers(
    runtime: ServiceRuntime,
    *,
    accepting: Accepting,
    actions: Actions,
    followups: FollowUps,
    customers: CustomerDesk,
) -> None:
    inbound_topic = runtime.topic(topics.INBOUND)
    actions_topic = runtime.topic(topics.ACTIONS)
    customers_topic = runtime.topic(topics.CUSTOMERS)

    @runtime.subscriber(topics.INBOUND)
    async def on_inbound(body: bytes) -> None:
        """A customer message from any channel becomes (or joins) a ticket."""
        accepted = await accepting.accept(decode_inbound(body))
        runtime.stats.count(
            inbound_topic, "inbound", "duplicate" if accepted.duplicate else "applied"
        )

    @runtime.subscriber(topics.ACTIONS)
    async def on_action(body: bytes) -> None:
        """An agent action; a refused one is dead-lettered with the state machine's reason."""
        try:
            action = ACTION_ADAPTER.validate_python(load_json_object(body))
        except ValidationError as exc:
            raise InvalidMessage(f"invalid action: {validation_reason(exc)}") from exc
        try:
            await actions.act(action)
        except TransitionRefused as refused:
            actions.refused(action)
            raise InvalidMessage(f"action refused: {refused.reason}") from refused
        except TicketNotFound as missing:
            raise InvalidMessage(f"no ticket {missing}") from missing
        runtime.stats.count(actions_topic, action.kind, "applied")

    surveys = runtime.applier(SURVEY_EVENTS, topics.SURVEYS, handles=(SurveyFollowupRequested,))

    @runtime.event_subscriber(topics.SURVEYS, surveys, linger=True)
    async def on_survey_event(event: Event[Any]) -> None:
        """An unhappy CSAT or NPS answer opens a follow-up ticket for a senior agent."""
        match event:
            case SurveyFollowupRequested(payload=payload):
                await followups.open_followup(payload)
            case _:
                pass  # the other survey events are analytics' business

    @runtime.subscriber(topics.CUSTOMERS, typed=True)
    async def on_customer(upsert: CustomerProfileUpsert) -> None:
        """Customer attributes (tier, language, region) from a CRM."""
        if await runtime.processed.seen(f"upsert:{upsert.upsert_id}"):
            runtime.stats.count(customers_topic, "customer", "duplicate")
            return
        await customers.upsert_customer(upsert)
        await runtime.processed.remember(f"upsert:{upsert.upsert_id}", type="customer.upsert")
        runtime.stats.count(customers_topic, "customer", "applied")
