"""Kafka handlers of the survey service: each topic's events decoded by their family, applied
once per event id (`EventApplier`), and dispatched on their classes."""

from __future__ import annotations

from typing import Any

from s8_shared import topics
from s8_shared.contracts import (
    SURVEY_EVENTS,
    TICKET_EVENTS,
    Event,
    InvalidMessage,
    TicketCreated,
    TicketDeflected,
    TicketMerged,
    TicketMessageAdded,
    TicketPriorityChanged,
    TicketStatusChanged,
    TicketTransferred,
)
from s8_shared.contracts.surveys import SurveyAnswerSubmitted
from s8_shared.contracts.tickets import TicketProblemLinked, TicketProblemUnlinked
from s8_shared.runtime import ServiceRuntime
from s8_survey.domain.rules import AnswerRefused
from s8_survey.service import SurveyNotFound, SurveyService


class SurveyConsumers:
    """What each consumed event does to the survey service (the effects `EventApplier`
    applies once)."""

    def __init__(self, service: SurveyService) -> None:
        self.service = service

    async def on_ticket_event(self, event: Event[Any]) -> None:
        """Every ticket event carries the ticket as it now is; a solved one plans surveys."""
        match event:
            case (
                TicketCreated()
                | TicketMessageAdded()
                | TicketStatusChanged()
                | TicketPriorityChanged()
                | TicketTransferred()
                | TicketMerged()
                | TicketDeflected()
                | TicketProblemLinked()
                | TicketProblemUnlinked()
            ):
                await self.service.on_ticket(event.payload.ticket)
            case _:
                return

    async def on_survey_event(self, event: Event[Any]) -> None:
        """Answers collected by channels themselves; the survey's own events are not inputs."""
        match event:
            case SurveyAnswerSubmitted(payload=answer):
                try:
                    await self.service.answer(answer.survey_id, answer.score, answer.comment)
                except (AnswerRefused, SurveyNotFound) as refused:
                    raise InvalidMessage(f"answer refused: {refused}") from refused
            case _:
                return


def register_handlers(runtime: ServiceRuntime, service: SurveyService) -> None:
    consumers = SurveyConsumers(service)
    tickets = runtime.applier(TICKET_EVENTS, topics.TICKETS)
    answers = runtime.applier(SURVEY_EVENTS, topics.SURVEYS, handles=(SurveyAnswerSubmitted,))

    @runtime.event_subscriber(topics.TICKETS, tickets, linger=True)
    async def on_ticket_event(event: Event[Any]) -> None:
        """A solved ticket plans a CSAT survey (and an NPS one when its cadence allows)."""
        await consumers.on_ticket_event(event)

    @runtime.event_subscriber(topics.SURVEYS, answers, linger=True)
    async def on_survey_event(event: Event[Any]) -> None:
        """Answers collected by channels themselves (`survey.answer_submitted`)."""
        await consumers.on_survey_event(event)
