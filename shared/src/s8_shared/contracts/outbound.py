"""Messages s8 wants delivered to customers, on `support.outbound.v1`.

Delivery systems (mail gateway, chat widget, Zalo/Facebook senders, SMS) consume these
and send them on the named channel.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from s8_shared.contracts.common import Channel, Language
from s8_shared.contracts.envelope import Contract, Event, EventFamily

OutboundKind = Literal[
    "auto_reply_faq", "acknowledgement", "survey", "proactive_notice", "incident_status", "reply"
]


class OutboundMessagePayload(Contract):
    outbound_id: str = Field(description="Stable id: a redelivery sends the same id again.")
    ticket_id: str | None = None
    customer_id: str
    channel: Channel
    to: str = Field(description="Address on that channel: email, phone, visitor or social id.")
    language: Language
    kind: OutboundKind
    subject: str | None = None
    text: str
    article_id: str | None = None
    problem_id: str | None = Field(default=None, description="For notices about a known problem.")
    reply_to_message_id: str | None = Field(
        default=None, description="The channel message this answers (email In-Reply-To)."
    )


class OutboundMessageRequested(Event[OutboundMessagePayload]):
    type: Literal["outbound.message_requested"] = "outbound.message_requested"
    partition_key_field: ClassVar[str] = "customer_id"


OUTBOUND_EVENTS = EventFamily("outbound messages", (OutboundMessageRequested,))
