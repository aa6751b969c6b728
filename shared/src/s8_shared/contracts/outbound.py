"""Messages s8 wants delivered to customers, on `support.outbound.v1`, and what became of them.

The channels service delivers e-mail, Meta, Zalo and SMS messages itself and reports each as
`outbound.delivered` or `outbound.failed` on the same topic (same key, so a message's request
and its outcome stay in order); other delivery systems (a chat widget) may consume the
requests too.
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


class OutboundDeliveryPayload(Contract):
    outbound_id: str = Field(description="The request this reports on.")
    ticket_id: str | None = None
    customer_id: str
    channel: Channel
    to: str
    provider: str = Field(description="Who carried it: smtp, meta, zalo, twilio.")
    attempts: int = Field(ge=1, description="Sends tried, this one included.")
    provider_message_id: str | None = Field(
        default=None, description="The platform's id of the sent message (Message-ID, mid, sid)."
    )
    reason: str | None = Field(default=None, description="Why it failed (failures only).")
    permanent: bool = Field(
        default=False, description="A failure retrying cannot mend (bad address, refused)."
    )


class OutboundDelivered(Event[OutboundDeliveryPayload]):
    type: Literal["outbound.delivered"] = "outbound.delivered"
    partition_key_field: ClassVar[str] = "customer_id"


class OutboundFailed(Event[OutboundDeliveryPayload]):
    type: Literal["outbound.failed"] = "outbound.failed"
    partition_key_field: ClassVar[str] = "customer_id"


OUTBOUND_EVENTS = EventFamily(
    "outbound messages", (OutboundMessageRequested, OutboundDelivered, OutboundFailed)
)
