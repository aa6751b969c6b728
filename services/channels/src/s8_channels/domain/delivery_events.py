"""The events a delivery's outcome causes, with ids derived from the outbound id: stored in
the delivery's outbox and republished after a crash, they keep their ids, so consumers
apply them once. Pure."""

from __future__ import annotations

from datetime import datetime

from s8_channels.domain.delivery import SentReceipt
from s8_shared import topics
from s8_shared.contracts import OutboundMessageRequested, deterministic_id
from s8_shared.contracts.deadletter import DeadLetterPayload, DeadLetterRecorded
from s8_shared.contracts.outbound import (
    OutboundDelivered,
    OutboundDeliveryPayload,
    OutboundFailed,
)
from s8_shared.kafka.originals import REASON_LIMIT_CHARS, original_copy
from s8_shared.outbox import OutboxItem, item_for

# A dead letter's `error_type`: a refusal can never succeed; spent retries gave up.
PERMANENT_ERROR_TYPE = "invalid"
GAVE_UP_ERROR_TYPE = "gave_up"


def _payload(
    request: OutboundMessageRequested, provider: str, attempts: int
) -> OutboundDeliveryPayload:
    p = request.payload
    return OutboundDeliveryPayload(
        outbound_id=p.outbound_id,
        ticket_id=p.ticket_id,
        customer_id=p.customer_id,
        channel=p.channel,
        to=p.to,
        provider=provider,
        attempts=max(attempts, 1),
    )


def delivered(
    request: OutboundMessageRequested,
    *,
    provider: str,
    attempts: int,
    receipt: SentReceipt,
    producer: str,
    now: datetime,
) -> list[OutboxItem]:
    payload = _payload(request, provider, attempts).model_copy(
        update={"provider_message_id": receipt.provider_message_id}
    )
    event = OutboundDelivered(
        event_id=deterministic_id("outbound.delivered", request.payload.outbound_id),
        occurred_at=now,
        producer=producer,
        trace=request.trace,
        payload=payload,
    )
    return [item_for(topics.OUTBOUND, event)]


def failed(
    request: OutboundMessageRequested,
    *,
    provider: str,
    attempts: int,
    reason: str,
    permanent: bool,
    producer: str,
    source_topic: str,
    now: datetime,
) -> list[OutboxItem]:
    """`outbound.failed` for the request's readers, and the dead letter that puts the
    request before a person (with its reason and the request itself)."""
    outbound_id = request.payload.outbound_id
    reason = reason[:REASON_LIMIT_CHARS]
    payload = _payload(request, provider, attempts).model_copy(
        update={"reason": reason, "permanent": permanent}
    )
    event = OutboundFailed(
        event_id=deterministic_id("outbound.failed", outbound_id),
        occurred_at=now,
        producer=producer,
        trace=request.trace,
        payload=payload,
    )
    dead_letter = DeadLetterRecorded(
        event_id=deterministic_id("outbound.deadletter", outbound_id),
        occurred_at=now,
        producer=producer,
        trace=request.trace,
        payload=DeadLetterPayload(
            # No partition and offset: the request was consumed long before; its own id
            # names it as stably across retries.
            dead_letter_id=f"{source_topic}/outbound/{outbound_id}",
            service=producer,
            source_topic=source_topic,
            key=request.payload.customer_id,
            reason=f"{provider}: {reason}",
            error_type=PERMANENT_ERROR_TYPE if permanent else GAVE_UP_ERROR_TYPE,
            attempts=max(attempts, 1),
            original_headers={"s8-event-type": request.type},
            **original_copy(request.to_bytes()),
        ),
    )
    return [item_for(topics.OUTBOUND, event), item_for(topics.DEADLETTER, dead_letter)]
