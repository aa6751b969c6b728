"""Events on `support.tickets.v1`, keyed by ticket id.

Every event carries the ticket's snapshot after the change, so a consumer never needs
to ask intake for data; `ticket.version` orders the snapshots of one ticket.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field

from s8_shared.contracts.common import Channel, CustomerTier, Language, Priority, TicketStatus
from s8_shared.contracts.envelope import Contract, Event, EventFamily


class Author(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class TicketSnapshot(Contract):
    """What downstream services need to know about a ticket, carried on every ticket event."""

    ticket_id: str = Field(description="s8 ticket id.", examples=["T-6f1c2a9b0d3e4f51"])
    version: int = Field(default=1, ge=1, description="Increases with every change of the ticket.")
    customer_id: str = Field(description="s8 customer id (one per person across channels).")
    channel: Channel = Field(description="Channel the ticket was opened on.")
    status: TicketStatus
    priority: Priority = Priority.NORMAL
    category: str | None = Field(default=None, examples=["billing"])
    required_skills: list[str] = Field(default_factory=list, examples=[["billing"]])
    language: Language = Language.VI
    customer_tier: CustomerTier = CustomerTier.STANDARD
    region: str | None = Field(default=None, description="For on-site work.", examples=["Hà Nội"])
    sentiment: float | None = Field(
        default=None, ge=-1.0, le=1.0, description="Sentiment of the latest customer message."
    )
    negative_sentiment: bool = Field(
        default=False, description="A customer message was clearly negative: a manager may step in."
    )
    subject: str | None = None
    customer_name: str | None = Field(
        default=None,
        max_length=200,
        description="The name the customer gave on the message that opened the ticket.",
    )
    team: str | None = Field(default=None, description="Team by category, e.g. `billing`.")
    tier_required: str | None = Field(
        default=None, description="e.g. `L2` for VIP or urgent tickets."
    )
    classified_by: dict[str, str] = Field(
        default_factory=dict, description="Which rule set each classified field (explainability)."
    )
    bot_handoff: bool = Field(default=False, description="Opened by a bot → human handoff.")
    callback_requested: bool = Field(
        default=False,
        description="A missed or abandoned call to return (marked by the classification rules); "
        "the SLA's first response is the call back.",
    )
    deflected: bool = Field(default=False, description="Answered by a FAQ auto-reply.")
    contact_channel: Channel | None = Field(
        default=None, description="Where the customer is answered (their latest channel)."
    )
    contact: str | None = Field(
        default=None,
        description="Their address on that channel (email, phone, visitor or social id).",
    )
    linked_ticket_id: str | None = Field(
        default=None, description="An earlier ticket this one continues."
    )
    merged_into: str | None = None
    problem_id: str | None = Field(
        default=None, description="The known problem this ticket is an incident of."
    )
    reopen_count: int = 0
    customer_messages: int = 0
    agent_replies: int = 0
    first_agent_reply_at: datetime | None = None
    last_customer_message_at: datetime | None = None
    solved_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class MessageInfo(Contract):
    message_id: str
    author: Author
    author_id: str | None = None
    channel: Channel
    text: str
    public: bool = Field(default=True, description="False for internal notes.")
    sent_at: datetime
    client_at: datetime | None = Field(
        default=None, description="An agent message: when the caller said it was sent."
    )
    sentiment: float | None = None
    attachments: list[str] = Field(default_factory=list, description="File names.")
    text_cut_from: int | None = Field(
        default=None,
        description="The text was cut to 20,000 characters: the size, in characters, of what "
        "it was cut from (the text; for an HTML e-mail, its HTML body).",
    )


class TicketCreatedPayload(Contract):
    ticket_id: str
    ticket: TicketSnapshot
    first_message: MessageInfo
    transcript: list[MessageInfo] = Field(
        default_factory=list,
        description="Earlier bot or chat exchange, so the customer never repeats themselves: "
        "its latest lines, at most 40,000 characters.",
    )
    transcript_omitted: int = Field(
        default=0, ge=0, description="Earlier transcript lines left out (not carried)."
    )


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
    reason: str | None = Field(
        default=None, examples=["customer_replied", "agent", "faq_auto_reply"]
    )
    actor_id: str | None = None


class TicketStatusChanged(Event[TicketStatusChangedPayload]):
    type: Literal["ticket.status_changed"] = "ticket.status_changed"


class TicketPriorityChangedPayload(Contract):
    ticket_id: str
    ticket: TicketSnapshot
    from_priority: Priority
    to_priority: Priority
    actor_id: str | None = None


class TicketPriorityChanged(Event[TicketPriorityChangedPayload]):
    type: Literal["ticket.priority_changed"] = "ticket.priority_changed"


class TicketTransferredPayload(Contract):
    ticket_id: str
    ticket: TicketSnapshot
    to_team: str | None = None
    to_agent_id: str | None = None
    to_tier: str | None = None
    reason: str | None = None
    actor_id: str | None = None


class TicketTransferred(Event[TicketTransferredPayload]):
    type: Literal["ticket.transferred"] = "ticket.transferred"


class TicketMergedPayload(Contract):
    ticket_id: str = Field(description="The ticket merged away (now closed).")
    ticket: TicketSnapshot
    into_ticket_id: str
    actor_id: str | None = None


class TicketMerged(Event[TicketMergedPayload]):
    type: Literal["ticket.merged"] = "ticket.merged"


class TicketDeflectedPayload(Contract):
    ticket_id: str
    ticket: TicketSnapshot
    article_id: str
    score: float = Field(ge=0.0, le=1.0)


class TicketDeflected(Event[TicketDeflectedPayload]):
    """A FAQ article answered the first message; the ticket waits on the customer."""

    type: Literal["ticket.deflected"] = "ticket.deflected"


class TicketProblemLinkPayload(Contract):
    ticket_id: str
    ticket: TicketSnapshot
    problem_id: str
    by: Literal["auto", "agent", "system"] = Field(
        description="auto: intake matched the message to an open problem."
    )
    actor_id: str | None = None


class TicketProblemLinked(Event[TicketProblemLinkPayload]):
    """The ticket is now an incident of a known problem."""

    type: Literal["ticket.problem_linked"] = "ticket.problem_linked"


class TicketProblemUnlinked(Event[TicketProblemLinkPayload]):
    type: Literal["ticket.problem_unlinked"] = "ticket.problem_unlinked"


class BotConversationPayload(Contract):
    conversation_id: str = Field(description="The bot's conversation id.")
    customer_id: str
    handed_off: bool = Field(description="False here: the bot handled it without a human.")
    bot_confidence: float | None = None


class BotConversationHandled(Event[BotConversationPayload]):
    """A chatbot conversation that ended without a human (no ticket): the denominator of the
    handoff rate. Keyed by conversation id; consumers that only want tickets skip it."""

    type: Literal["bot.conversation_handled"] = "bot.conversation_handled"
    partition_key_field: ClassVar[str] = "conversation_id"


TicketEvent = (
    TicketCreated
    | TicketMessageAdded
    | TicketStatusChanged
    | TicketPriorityChanged
    | TicketTransferred
    | TicketMerged
    | TicketDeflected
    | TicketProblemLinked
    | TicketProblemUnlinked
)
TICKET_EVENTS = EventFamily(
    "ticket events",
    (
        TicketCreated,
        TicketMessageAdded,
        TicketStatusChanged,
        TicketPriorityChanged,
        TicketTransferred,
        TicketMerged,
        TicketDeflected,
        TicketProblemLinked,
        TicketProblemUnlinked,
    ),
)
