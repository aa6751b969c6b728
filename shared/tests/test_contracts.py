import json
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from s8_shared.contracts import TICKET_EVENTS, Channel, InvalidMessage, TicketCreated, parse_inbound
from s8_shared.contracts.envelope import deterministic_id
from s8_shared.contracts.inbound import CHANNEL_MODELS, EmailMessage
from s8_testing.builders import make_inbound, make_sms, make_snapshot, make_ticket_created


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
    msg = parse_inbound(make_inbound(x_mailer="Outlook", **{"$where": "1"}))
    assert msg.raw == {"x_mailer": "Outlook", "$where": "1"}


def test_inbound_is_chosen_by_channel_with_dedup_and_partition_keys() -> None:
    email = parse_inbound(make_inbound())
    assert isinstance(email, EmailMessage)
    assert email.dedup_key() == "email:<m1@example.vn>"
    assert email.partition_key() == b"email:lan.nguyen@example.vn"
    chat = parse_inbound(
        {
            "channel": "live_chat",
            "channel_message_id": "c1",
            "session_id": "S-9",
            "visitor_id": "v1",
            "text": "hi",
        }
    )
    assert chat.partition_key() == b"live_chat:S-9"
    assert parse_inbound(make_sms()).partition_key() == b"sms:0903123456"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (make_inbound(channel="pigeon"), "channel"),
        (make_inbound(**{"from": {"address": "not an email"}}), "from.address"),
        (make_inbound(text="x" * 20_001), "text"),
        (make_inbound(channel_message_id=""), "channel_message_id"),
        (make_inbound(received_at="2026-11-25T09:30:00"), "received_at"),
        (make_sms(text=""), "text"),
        ({"channel": "web_form", "channel_message_id": "f1", "text": "hello"}, "email or a phone"),
        (
            {
                "channel": "phone",
                "channel_message_id": "c1",
                "caller_number": "0903",
                "ivr_path": "1;2",
            },
            "ivr_path",
        ),
        (
            {
                "channel": "on_site",
                "channel_message_id": "o1",
                "phone": "0903123456",
                "address": "1 Lê Lợi",
                "region": "HCM",
                "text": "x",
                "window_start": "2026-11-26T10:00:00+07:00",
                "window_end": "2026-11-26T09:00:00+07:00",
            },
            "window_end",
        ),
    ],
)
def test_invalid_inbound_messages_name_the_problem(data: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_inbound(data)
    assert field in str(info.value)


def test_every_channel_has_a_model() -> None:
    assert set(CHANNEL_MODELS) == set(Channel)


def test_inbound_received_at_accepts_aware_times() -> None:
    when = datetime(2026, 11, 25, 16, 0, tzinfo=timezone(timedelta(hours=7)))
    msg = parse_inbound(make_inbound(received_at=when.isoformat()))
    assert msg.received_at == when
