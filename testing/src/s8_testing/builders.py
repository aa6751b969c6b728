"""Test data builders shared by the shared library's tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord

from s8_shared.contracts import (
    Author,
    MessageInfo,
    OutboundMessagePayload,
    OutboundMessageRequested,
    TicketCreated,
    TicketCreatedPayload,
    TicketSnapshot,
)

T0 = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def make_snapshot(**overrides: Any) -> TicketSnapshot:
    fields: dict[str, Any] = {
        "ticket_id": "T-1",
        "customer_id": "C-1",
        "channel": "email",
        "status": "new",
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(overrides)
    return TicketSnapshot.model_validate(fields)


def make_ticket_created(**snapshot_overrides: Any) -> TicketCreated:
    snapshot = make_snapshot(**snapshot_overrides)
    return TicketCreated(
        producer="s8-test",
        occurred_at=T0,
        payload=TicketCreatedPayload(
            ticket_id=snapshot.ticket_id,
            ticket=snapshot,
            first_message=MessageInfo(
                message_id="email:<m1@example.vn>",
                author=Author.CUSTOMER,
                channel=snapshot.channel,
                text="Đơn hàng của tôi chưa được giao",
                sent_at=T0,
            ),
        ),
    )


def make_outbound(**overrides: Any) -> OutboundMessageRequested:
    """A request to deliver a reply (an e-mail unless overridden)."""
    fields: dict[str, Any] = {
        "outbound_id": "ob-1",
        "ticket_id": "T-1",
        "customer_id": "C-1",
        "channel": "email",
        "to": "lan.nguyen@example.vn",
        "language": "vi",
        "kind": "reply",
        "subject": "Về đơn hàng A1023",
        "text": "Chào chị Lan, đơn hàng của chị đang được giao.",
    }
    fields.update(overrides)
    return OutboundMessageRequested(
        producer="s8-test", occurred_at=T0, payload=OutboundMessagePayload.model_validate(fields)
    )


def make_inbound(**overrides: Any) -> dict[str, Any]:
    """An inbound email as the mail gateway publishes it."""
    fields: dict[str, Any] = {
        "channel": "email",
        "channel_message_id": "<m1@example.vn>",
        "from": {"address": "lan.nguyen@example.vn", "name": "Nguyễn Thị Lan"},
        "to": [{"address": "support@s8.example.vn"}],
        "subject": "Hoàn tiền đơn #A1023",
        "text": "Tôi đã trả hàng tuần trước nhưng chưa nhận được hoàn tiền, xin hỗ trợ gấp!",
    }
    fields.update(overrides)
    return fields


def make_sms(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "channel": "sms",
        "channel_message_id": "sms-1",
        "from_number": "0903123456",
        "to_number": "8088",
        "text": "Đơn hàng A1023 của tôi giao chậm quá, kiểm tra giúp tôi.",
    }
    fields.update(overrides)
    return fields


def consumer_record(
    topic: str,
    value: bytes,
    *,
    partition: int = 0,
    offset: int = 0,
    key: bytes | None = None,
    headers: Iterable[tuple[str, bytes]] = (),
) -> ConsumerRecord[bytes, bytes]:
    """A record as aiokafka hands it to a consumer (for middleware and batch tests)."""
    return ConsumerRecord(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key or b""),
        serialized_value_size=len(value),
        headers=list(headers),
    )
