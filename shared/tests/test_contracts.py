import json
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from s8_shared.contracts import TICKET_EVENTS, InboundMessage, InvalidMessage, TicketCreated
from s8_shared.contracts.envelope import deterministic_id
from s8_shared.testing.builders import make_inbound, make_snapshot, make_ticket_created


def test_ticket_created_round_trips_through_bytes() -> None:
    event = make_ticket_created()
    decoded = TICKET_EVENTS.decode(event.to_bytes())
    assert decoded == event
    assert isinstance(decoded, TicketCreated)


def test_envelope_carries_schema_version_type_and_producer() -> None:
    data = json.loads(make_ticket_created().to_bytes())
    assert data["schema_version"] == 1
    assert data["type"] == "ticket.created"
    assert data["producer"] == "s8-test"
    assert data["occurred_at"].endswith("Z")


def test_partition_key_is_the_ticket_id() -> None:
    assert make_ticket_created(ticket_id="T-42").partition_key() == b"T-42"


def test_occurred_at_is_normalized_to_utc() -> None:
    event = make_ticket_created()
    hanoi = timezone(timedelta(hours=7))
    moved = event.model_copy(update={"occurred_at": event.occurred_at.astimezone(hanoi)})
    again = TicketCreated.model_validate_json(moved.to_bytes())
    assert again.occurred_at.utcoffset() == timedelta(0)
    assert again.occurred_at == event.occurred_at


def test_naive_timestamps_are_rejected() -> None:
    data = json.loads(make_ticket_created().to_bytes())
    data["occurred_at"] = "2026-11-25T09:30:00"
    with pytest.raises(InvalidMessage, match="occurred_at"):
        TICKET_EVENTS.decode(json.dumps(data))


def test_unknown_event_type_is_skipped_not_rejected() -> None:
    data = json.loads(make_ticket_created().to_bytes())
    data["type"] = "ticket.something_new"
    assert TICKET_EVENTS.decode(json.dumps(data)) is None


def test_additive_fields_from_a_newer_producer_are_ignored() -> None:
    event = make_ticket_created()
    data = json.loads(event.to_bytes())
    data["payload"]["ticket"]["new_field"] = 1
    data["new_envelope_field"] = "x"
    assert TICKET_EVENTS.decode(json.dumps(data)) == event


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe not json", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"payload": {}}', "missing string field `type`"),
        (b'{"type": "ticket.created", "producer": "x", "payload": {}}', "payload.ticket_id"),
    ],
)
def test_malformed_events_are_rejected_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(InvalidMessage) as info:
        TICKET_EVENTS.decode(raw)
    assert reason in info.value.reason


def test_snapshot_rejects_unknown_status_and_out_of_range_sentiment() -> None:
    with pytest.raises(ValidationError, match="status"):
        make_snapshot(status="lost")
    with pytest.raises(ValidationError, match="sentiment"):
        make_snapshot(sentiment=2.0)


def test_deterministic_ids_repeat_for_the_same_parts_only() -> None:
    assert deterministic_id("T-1", "ticket.created") == deterministic_id("T-1", "ticket.created")
    assert deterministic_id("T-1", "ticket.created") != deterministic_id("T-2", "ticket.created")


def test_inbound_keeps_unknown_channel_fields_in_raw() -> None:
    msg = InboundMessage.model_validate(make_inbound(x_mailer="Outlook", **{"$where": "1"}))
    assert msg.raw == {"x_mailer": "Outlook", "$where": "1"}


def test_inbound_dedup_key_and_partition_key() -> None:
    msg = InboundMessage.model_validate(make_inbound(channel="live_chat", conversation_id="S-9"))
    assert msg.dedup_key() == "live_chat:<m1@example.vn>"
    assert msg.partition_key() == b"live_chat:S-9"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"channel": "pigeon"}, "channel"),
        ({"text": ""}, "text"),
        ({"text": "x" * 20_001}, "text"),
        ({"channel_message_id": ""}, "channel_message_id"),
        ({"received_at": "2026-11-25T09:30:00"}, "received_at"),
    ],
)
def test_invalid_inbound_messages_name_the_field(override: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        InboundMessage.model_validate(make_inbound(**override))
    assert field in str(info.value)


def test_inbound_received_at_accepts_aware_times() -> None:
    when = datetime(2026, 11, 25, 16, 0, tzinfo=timezone(timedelta(hours=7)))
    msg = InboundMessage.model_validate(make_inbound(received_at=when.isoformat()))
    assert msg.received_at == when
