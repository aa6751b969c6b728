"""Survey events on `support.surveys.v1`: keyed by ticket id (CSAT) or customer id (NPS).

Channels that collect ratings themselves (chat buttons) publish `survey.answer_submitted`
here too (or call the survey service's JSON API).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from s8_shared.contracts.common import Channel, Language
from s8_shared.contracts.envelope import Contract, Event, EventFamily

SurveyKind = Literal["csat", "nps"]


class SurveyRequestedPayload(Contract):
    survey_id: str
    kind: SurveyKind
    ticket_id: str | None = None
    customer_id: str
    channel: Channel
    language: Language
    link: str = Field(description="The signed link to the response page.")
    expires_at: datetime


class SurveyRequested(Event[SurveyRequestedPayload]):
    type: Literal["survey.requested"] = "survey.requested"
    partition_key_field: ClassVar[str] = "customer_id"


class SurveyRespondedPayload(Contract):
    survey_id: str
    kind: SurveyKind
    ticket_id: str | None = None
    customer_id: str
    channel: Channel
    score: int = Field(description="CSAT 1..5, NPS 0..10.")
    comment: str | None = None
    comment_sentiment: float | None = Field(default=None, ge=-1.0, le=1.0)
    answered_at: datetime
    revision: int = Field(
        default=1, description="2+ when the customer changed the answer in the grace period."
    )


class SurveyResponded(Event[SurveyRespondedPayload]):
    type: Literal["survey.responded"] = "survey.responded"
    partition_key_field: ClassVar[str] = "customer_id"


class SurveyFollowupPayload(Contract):
    survey_id: str
    kind: SurveyKind
    ticket_id: str | None = None
    customer_id: str
    score: int
    comment: str | None = None
    language: Language


class SurveyFollowupRequested(Event[SurveyFollowupPayload]):
    """A CSAT of 1–2 or an NPS detractor (0–6): someone senior should call back."""

    type: Literal["survey.followup_requested"] = "survey.followup_requested"
    partition_key_field: ClassVar[str] = "customer_id"


class SurveyAnswerPayload(Contract):
    survey_id: str
    score: int
    comment: str | None = Field(default=None, max_length=2000)
    channel: Channel | None = None


class SurveyAnswerSubmitted(Event[SurveyAnswerPayload]):
    """An answer collected by a channel itself (chat rating buttons)."""

    type: Literal["survey.answer_submitted"] = "survey.answer_submitted"
    partition_key_field: ClassVar[str] = "survey_id"


SurveyEvent = SurveyRequested | SurveyResponded | SurveyFollowupRequested | SurveyAnswerSubmitted
SURVEY_EVENTS = EventFamily(
    "survey events",
    (SurveyRequested, SurveyResponded, SurveyFollowupRequested, SurveyAnswerSubmitted),
)
