"""What the agents' desk answers: tickets as the views list them, a ticket's detail, view
counts and the live notices streamed to each agent. Built by the desk from the topics."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from s8_shared.contracts.agents import Presence
from s8_shared.contracts.common import Channel, Language, Priority, TicketStatus
from s8_shared.contracts.compensation import CompensationOffer
from s8_shared.contracts.envelope import Contract
from s8_shared.contracts.sla import SlaTarget
from s8_shared.contracts.tickets import MessageInfo


class SlaStanding(StrEnum):
    """Where a ticket stands against its open SLA clocks; views sort by it, then time left."""

    BREACHED = "breached"
    WARNED = "warned"
    RUNNING = "running"
    PAUSED = "paused"
    NONE = "none"  # no open clock: met, cancelled or never started


class DeskClock(Contract):
    clock_id: str
    target: SlaTarget
    state: Literal["running", "paused", "warned", "breached", "met", "cancelled"]
    due_at: datetime | None = Field(default=None, description="When it breaches if it runs on.")
    remaining_business_seconds: float = Field(description="At the last event; negative: overdue.")
    updated_at: datetime


class DeskTicket(Contract):
    """A ticket as a view lists it."""

    ticket_id: str
    customer_id: str
    customer_name: str | None = None
    subject: str | None = None
    status: TicketStatus
    priority: Priority
    channel: Channel
    team: str | None = None
    category: str | None = None
    contact: str | None = None
    agent_id: str | None = Field(default=None, description="Who holds it now (routing).")
    queued: bool = Field(default=False, description="Waiting in the router's queue.")
    offer_expires_at: datetime | None = Field(
        default=None, description="Offered, not yet accepted: the acceptance deadline."
    )
    sla: SlaStanding = SlaStanding.NONE
    sla_due_at: datetime | None = Field(
        default=None, description="The soonest due moment among its open clocks."
    )
    problem_id: str | None = None
    last_customer_message_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class RoutingExplained(Contract):
    """One routing decision and why (`support.assignments.v1`)."""

    decision: str = Field(examples=["ticket.assigned", "ticket.queued"])
    agent_id: str | None = None
    previous_agent_id: str | None = None
    reason: str
    eligible: list[str] = Field(default_factory=list)
    rejected: dict[str, str] = Field(default_factory=dict)
    at: datetime


class CustomerSummary(Contract):
    """The customer at a glance, from the tickets the desk has seen."""

    customer_id: str
    tickets: int
    open_tickets: int
    contacts: list[str] = Field(default_factory=list, description="Addresses seen, any channel.")
    last_csat: int | None = Field(default=None, description="1..5, their latest CSAT answer.")


class TicketDetail(Contract):
    ticket: DeskTicket
    conversation: list[MessageInfo] = Field(
        description="Bot transcript, customer messages, replies and notes, oldest first."
    )
    clocks: list[DeskClock]
    routing: list[RoutingExplained] = Field(description="Decisions, oldest first.")
    compensation: list[CompensationOffer] = Field(default_factory=list)
    customer: CustomerSummary


class ViewCount(Contract):
    view: str = Field(examples=["mine", "team", "unassigned", "sla", "approvals"])
    count: int


class DeskMe(Contract):
    """`GET /v1/me`: who is signed in, as the desk knows them (roles from the token; the rest
    from the roster the router publishes, absent until it has)."""

    agent_id: str
    roles: list[str]
    name: str | None = None
    team: str | None = None
    lead: bool = False
    presence: Presence | None = Field(
        default=None, description="As the router last published it; None: not heard yet."
    )


NoticeKind = Literal[
    "assigned",
    "offered",
    "customer_answered",
    "sla_warning",
    "sla_breached",
    "approval_needed",
    "transferred_away",
]


class Notice(Contract):
    """One live update for one agent (`GET /v1/stream`); `seq` is the stream's event id."""

    seq: int = Field(description="Increases along the stream: resume with Last-Event-ID.")
    agent_id: str
    kind: NoticeKind
    ticket_id: str
    at: datetime = Field(description="When it happened (the event's time).")
    deadline: datetime | None = Field(
        default=None, description="An offer's acceptance deadline, an SLA clock's due moment."
    )
    detail: str | None = Field(default=None, examples=["first_response", "sla_breach"])
    event_id: str | None = Field(
        default=None, description="The event on the topics that caused it (for tracing)."
    )


class CannedReplyBody(BaseModel):
    """`PUT /v1/canned/{canned_id}`: placeholders `{{customer_name}}`, `{{ticket_id}}`,
    `{{agent_name}}` and `{{subject}}` are filled in for the ticket being answered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    language: Language
    title: str = Field(min_length=1, max_length=120)
    text: str = Field(min_length=1, max_length=5_000)


class CannedReply(Contract):
    canned_id: str
    language: Language
    title: str
    text: str
    updated_by: str
    updated_at: datetime


class RenderedReply(Contract):
    canned_id: str
    ticket_id: str
    text: str = Field(description="The reply with its placeholders filled in, for the reply box.")
