"""Opening a ticket from a customer's first message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from s8_shared.contracts import (
    Author,
    InboundMessage,
    MessageInfo,
    TicketCreated,
    TicketCreatedPayload,
    TicketSnapshot,
    TicketStatus,
    deterministic_id,
)

PRODUCER = "s8-intake"


def ticket_id_for(inbound: InboundMessage) -> str:
    """Same channel message, same ticket id: a redelivery cannot open a second ticket."""
    return "T-" + deterministic_id("ticket", inbound.dedup_key()).hex[:16]


def customer_id_for(inbound: InboundMessage) -> str:
    return (
        "C-"
        + deterministic_id("customer", inbound.channel.value, inbound.sender_id.lower()).hex[:16]
    )


@dataclass(frozen=True)
class NewTicket:
    ticket: TicketSnapshot
    message: MessageInfo


def open_ticket(inbound: InboundMessage, now: datetime) -> NewTicket:
    sent_at = inbound.received_at or now
    ticket = TicketSnapshot(
        ticket_id=ticket_id_for(inbound),
        customer_id=customer_id_for(inbound),
        channel=inbound.channel,
        status=TicketStatus.NEW,
        subject=inbound.subject,
        created_at=now,
        updated_at=now,
    )
    message = MessageInfo(
        message_id=inbound.dedup_key(),
        author=Author.CUSTOMER,
        author_id=inbound.sender_id,
        channel=inbound.channel,
        text=inbound.text,
        sent_at=sent_at,
    )
    return NewTicket(ticket=ticket, message=message)


def ticket_created(ticket: TicketSnapshot, message: MessageInfo) -> TicketCreated:
    """The event for a stored ticket; its id is derived from the ticket so a re-publish
    after a crash carries the same event id."""
    return TicketCreated(
        event_id=deterministic_id(ticket.ticket_id, "ticket.created"),
        occurred_at=ticket.created_at,
        producer=PRODUCER,
        payload=TicketCreatedPayload(
            ticket_id=ticket.ticket_id, ticket=ticket, first_message=message
        ),
    )
