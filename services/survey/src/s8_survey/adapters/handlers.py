"""Kafka handlers of the survey service."""

from __future__ import annotations

from typing import Any

from faststream.kafka.annotations import KafkaMessage

from s8_shared import topics
from s8_shared.contracts import SURVEY_EVENTS, TICKET_EVENTS, InvalidMessage
from s8_shared.handling import EventApplier
from s8_shared.runtime import ServiceRuntime
from s8_survey.domain.rules import AnswerRefused
from s8_survey.service import SurveyNotFound, SurveyService


def register_handlers(runtime: ServiceRuntime, service: SurveyService) -> None:
    tickets = EventApplier(
        TICKET_EVENTS, runtime.processed, runtime.stats, runtime.topic(topics.TICKETS)
    )
    answers = EventApplier(
        SURVEY_EVENTS, runtime.processed, runtime.stats, runtime.topic(topics.SURVEYS)
    )

    @runtime.subscriber(topics.TICKETS)
    async def on_ticket_event(msg: KafkaMessage) -> None:
        """A solved ticket plans a CSAT survey (and an NPS one when its cadence allows)."""
        await tickets(msg.body, service.on_ticket_event)

    @runtime.subscriber(topics.SURVEYS)
    async def on_survey_event(msg: KafkaMessage) -> None:
        """Answers collected by channels themselves (`survey.answer_submitted`)."""

        async def effect(event: Any) -> None:
            if event.type != "survey.answer_submitted":
                return
            try:
                await service.answer(
                    event.payload.survey_id, event.payload.score, event.payload.comment
                )
            except (AnswerRefused, SurveyNotFound) as refused:
                raise InvalidMessage(f"answer refused: {refused}") from refused

        await answers(msg.body, effect)
