"""Events on `support.tickets.v1`, keyed by ticket id."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field

from s8_shared.contracts.common import Channel, CustomerTier, Language, Priority, TicketStatus
from s8_shared.contracts.envelope import Contract, Event, EventFamily


class Author(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"


class TicketSnapshot(Contract):
    """What downstream services need to know about a ticket, carried on every ticket event."""

    ticket_id: str = Field(description="s8 ticket id.", examples=["T-6f1c2a9b"])
    customer_id: str = Field(description="s8 customer id (one per person across channels).")
    channel: Channel
    status: TicketStatus
    priority: Priority = Priority.NORMAL
    category: str | None = Field(default=None, examples=["billing"])
    required_skills: list[str] = Field(default_factory=list, examples=[["billing"]])
    language: Language = Language.VI
    customer_tier: CustomerTier = CustomerTier.STANDARD
    sentiment: float | None = Field(
        default=None, ge=-1.0, le=1.0, description="Sentiment of the latest customer message."
    )
    subject: str | None = None
    created_at: datetime
    updated_at: datetime


class MessageInfo(Contract):
    message_id: str
    author: Author
    author_id: str | None = None
    channel: Channel
    text: str
    sent_at: datetime


class TicketCreatedPayload(Contract):
    ticket_id: str
    ticket: TicketSnapshot
    first_message: MessageInfo


class TicketCreated(Event[TicketCreatedPayload]):
    type: Literal["ticket.created"] = "ticket.created"


class TicketMessageAddedPayload(Contract):
    ticket_id: str
    ticket: TicketSnapshot
    message: MessageInfo


class TicketMessageAdded(Event[TicketMessageAddedPayload]):
    type: Literal["ticket.message_added"] = "ticket.message_added"


class TicketStatusChangedPayload(Contract):
    ticket_id: str
    ticket: TicketSnapshot
    from_status: TicketStatus
    to_status: TicketStatus
    reason: str | None = None
    actor_id: str | None = None


class TicketStatusChanged(Event[TicketStatusChangedPayload]):
    type: Literal["ticket.status_changed"] = "ticket.status_changed"


TICKET_EVENTS = EventFamily(
    "ticket events", (TicketCreated, TicketMessageAdded, TicketStatusChanged)
)
TicketEvent = TicketCreated | TicketMessageAdded | TicketStatusChanged
