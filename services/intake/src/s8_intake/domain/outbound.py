"""Messages for the customer, as `outbound.message_requested` events."""

from __future__ import annotations

from datetime import datetime

from s8_intake.domain.ticket import PRODUCER, TicketState
from s8_shared.contracts import OutboundMessagePayload, OutboundMessageRequested, deterministic_id
from s8_shared.contracts.outbound import OutboundKind


def to_customer(
    state: TicketState,
    kind: OutboundKind,
    text: str,
    now: datetime,
    *,
    subject: str | None = None,
    article_id: str | None = None,
    reply_to_message_id: str | None = None,
    problem_id: str | None = None,
) -> OutboundMessageRequested | None:
    """None when the ticket has no address to answer on."""
    snap = state.snapshot
    if state.reply_channel is None or not state.reply_address:
        return None
    outbound_id = deterministic_id(snap.ticket_id, snap.version, kind).hex
    return OutboundMessageRequested(
        event_id=deterministic_id("outbound", outbound_id),
        occurred_at=now,
        producer=PRODUCER,
        payload=OutboundMessagePayload(
            outbound_id=outbound_id,
            ticket_id=snap.ticket_id,
            customer_id=snap.customer_id,
            channel=state.reply_channel,
            to=state.reply_address,
            language=snap.language,
            kind=kind,
            subject=subject,
            text=text,
            article_id=article_id,
            reply_to_message_id=reply_to_message_id,
            problem_id=problem_id,
        ),
    )
