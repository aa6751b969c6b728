"""The events a survey causes, built from the survey as stored: the invitation (an outbound
message with the link, and `survey.requested`) and the answer (`survey.responded`, with a
follow-up request when the customer is unhappy). Event ids are derived from the survey, so
publishing again after a crash or a broker error repeats the same events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from s8_shared import topics
from s8_shared.contracts import (
    Channel,
    Event,
    Language,
    OutboundMessagePayload,
    OutboundMessageRequested,
    deterministic_id,
)
from s8_shared.contracts.surveys import (
    SurveyFollowupPayload,
    SurveyFollowupRequested,
    SurveyRequested,
    SurveyRequestedPayload,
    SurveyResponded,
    SurveyRespondedPayload,
)
from s8_shared.topics import TopicSpec
from s8_survey.domain.rules import needs_followup

PRODUCER = "s8-survey"
Emits = list[tuple[TopicSpec, Event[Any]]]


def invitation_events(
    survey: dict[str, Any], *, language: Language, link: str, subject: str, text: str, at: datetime
) -> Emits:
    """The message that carries the link to the customer, and `survey.requested`."""
    outbound = OutboundMessageRequested(
        event_id=deterministic_id("survey-outbound", survey["_id"]),
        occurred_at=at,
        producer=PRODUCER,
        payload=OutboundMessagePayload(
            outbound_id=survey["_id"],
            ticket_id=survey.get("ticket_id"),
            customer_id=survey["customer_id"],
            channel=Channel(survey["channel"]),
            to=survey["to"],
            language=language,
            kind="survey",
            subject=subject,
            text=text,
        ),
    )
    requested = SurveyRequested(
        event_id=deterministic_id("survey-requested", survey["_id"]),
        occurred_at=at,
        producer=PRODUCER,
        payload=SurveyRequestedPayload(
            survey_id=survey["_id"],
            kind=survey["kind"],
            ticket_id=survey.get("ticket_id"),
            customer_id=survey["customer_id"],
            channel=Channel(survey["channel"]),
            language=language,
            link=link,
            expires_at=survey["expires_at"],
        ),
    )
    return [(topics.OUTBOUND, outbound), (topics.SURVEYS, requested)]


def answer_events(survey: dict[str, Any], now: datetime) -> Emits:
    """`survey.responded` (one per revision), and a follow-up request when the customer is
    unhappy (one per survey: its id does not depend on the revision)."""
    responded = SurveyResponded(
        event_id=deterministic_id("survey-responded", survey["_id"], survey["revision"]),
        occurred_at=now,
        producer=PRODUCER,
        payload=SurveyRespondedPayload(
            survey_id=survey["_id"],
            kind=survey["kind"],
            ticket_id=survey.get("ticket_id"),
            customer_id=survey["customer_id"],
            channel=Channel(survey["channel"]),
            score=survey["score"],
            comment=survey.get("comment"),
            comment_sentiment=survey.get("comment_sentiment"),
            answered_at=survey["answered_at"],
            revision=survey["revision"],
        ),
    )
    events: Emits = [(topics.SURVEYS, responded)]
    if needs_followup(survey["kind"], survey["score"]):
        followup = SurveyFollowupRequested(
            event_id=deterministic_id("survey-followup", survey["_id"]),
            occurred_at=now,
            producer=PRODUCER,
            payload=SurveyFollowupPayload(
                survey_id=survey["_id"],
                kind=survey["kind"],
                ticket_id=survey.get("ticket_id"),
                customer_id=survey["customer_id"],
                score=survey["score"],
                comment=survey.get("comment"),
                language=Language(survey["language"]),
            ),
        )
        events.append((topics.SURVEYS, followup))
    return events
