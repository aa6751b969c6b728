"""SLA clock events on `support.sla.v1`, keyed by ticket id."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from s8_shared.contracts.common import Channel, Priority
from s8_shared.contracts.envelope import Contract, Event, EventFamily

SlaTarget = Literal["first_response", "next_response", "resolution"]


class SlaPayload(Contract):
    ticket_id: str
    policy_id: str
    target: SlaTarget
    clock_id: str = Field(description="ticket/target/cycle: one clock per target and cycle.")
    priority: Priority
    channel: Channel
    calendar_id: str
    target_seconds: int = Field(description="The promise, in business seconds of the calendar.")
    due_at: datetime | None = Field(
        default=None, description="When it breaches (None while paused)."
    )
    elapsed_business_seconds: float
    elapsed_calendar_seconds: float
    remaining_business_seconds: float = Field(description="Negative when overdue.")


class SlaClockStarted(Event[SlaPayload]):
    type: Literal["sla.clock_started"] = "sla.clock_started"


class SlaWarning(Event[SlaPayload]):
    type: Literal["sla.warning"] = "sla.warning"


class SlaBreached(Event[SlaPayload]):
    type: Literal["sla.breached"] = "sla.breached"


class SlaMet(Event[SlaPayload]):
    type: Literal["sla.met"] = "sla.met"


class SlaPaused(Event[SlaPayload]):
    type: Literal["sla.paused"] = "sla.paused"


class SlaResumed(Event[SlaPayload]):
    type: Literal["sla.resumed"] = "sla.resumed"


class SlaCancelled(Event[SlaPayload]):
    type: Literal["sla.cancelled"] = "sla.cancelled"


SlaEvent = (
    SlaClockStarted | SlaWarning | SlaBreached | SlaMet | SlaPaused | SlaResumed | SlaCancelled
)
SLA_EVENTS = EventFamily(
    "sla events",
    (SlaClockStarted, SlaWarning, SlaBreached, SlaMet, SlaPaused, SlaResumed, SlaCancelled),
)
