"""The webhooks' pure mapping helpers, on the edge cases a platform payload can bring."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from s8_channels.accounts import ZaloAccount
from s8_channels.api import SignatureRefused
from s8_channels.domain import meta_payload, zalo_payload
from s8_channels.domain.platform_mapping import (
    Skipped,
    Unmappable,
    filename_from_url,
    from_millis,
    platform_id,
    size_of,
)
from s8_shared.contracts.inbound import SocialMessage


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1458692752478, datetime(2016, 3, 23, 0, 25, 52, 478000, tzinfo=UTC)),
        ("1540368141908", datetime(2018, 10, 24, 8, 2, 21, 908000, tzinfo=UTC)),
        (None, None),
    ],
)
def test_times_are_read_from_milliseconds_as_numbers_or_digits(
    value: object, expected: datetime | None
) -> None:
    assert from_millis(value) == expected


@pytest.mark.parametrize("value", ["2021-09-08T06:34:04+0000", -1, True, 10**30, "1e12", 1.5])
def test_anything_else_is_no_time(value: object) -> None:
    with pytest.raises(Unmappable):
        from_millis(value)


@pytest.mark.parametrize(
    ("value", "expected"), [(1254938275682919, "1254938275682919"), ("IGSID", "IGSID")]
)
def test_ids_are_strings_whatever_json_type_they_came_as(value: object, expected: str) -> None:
    assert platform_id(value, "id") == expected


@pytest.mark.parametrize("value", [None, "", "  ", True, 1.0, {"id": 1}, "x" * 513])
def test_a_missing_or_odd_id_is_unmappable(value: object) -> None:
    with pytest.raises(Unmappable):
        platform_id(value, "id")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://cdn.example/a/b/photo.jpg?x=1", "photo.jpg"),
        ("https://cdn.example/a/b%2F..%2Fetc%2Fpasswd", "b..etcpasswd"),  # no path separator
        ("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1", "image"),
        (None, "image"),
    ],
)
def test_a_filename_comes_from_the_url_path_else_the_kind(url: str | None, expected: str) -> None:
    assert filename_from_url(url, "image") == expected


@pytest.mark.parametrize(("value", "expected"), [(20480, 20480), ("20480", 20480), ("1 MB", 0), (-5, 0), (None, 0)])  # fmt: skip
def test_a_size_is_bytes_or_unknown(value: object, expected: int) -> None:
    assert size_of(value) == expected


def test_a_meta_signature_is_checked_on_the_bytes_in_constant_time() -> None:
    body = b'{"object":"page","entry":[]}'
    good = "sha256=" + hmac.new(b"s", body, hashlib.sha256).hexdigest()
    meta_payload.check_signature(b"s", body, good)
    with pytest.raises(SignatureRefused, match="does not match"):
        meta_payload.check_signature(b"s", body + b" ", good)


def test_a_verify_token_that_is_not_ascii_still_matches_itself() -> None:
    assert meta_payload.verify_token_matches("mã-xác-minh", "mã-xác-minh")
    assert not meta_payload.verify_token_matches("mã-xác-minh", "ma-xac-minh")


def test_an_echo_a_reaction_and_an_unsend_are_not_customer_messages() -> None:
    base = {"sender": {"id": "1"}, "recipient": {"id": "2"}, "timestamp": 1}
    echo = {**base, "message": {"mid": "m", "text": "hi", "is_echo": True}}
    reaction = {**base, "reaction": {"mid": "m", "action": "react", "emoji": "❤"}}
    unsend = {**base, "message": {"mid": "m", "is_deleted": True}}
    outcomes = [meta_payload.map_item("facebook", item) for item in (echo, reaction, unsend)]
    assert outcomes == [
        Skipped("facebook", "ignored", "echo"),
        Skipped("facebook", "ignored", "reaction"),
        Skipped("facebook", "ignored", "deleted"),
    ]


def test_a_message_with_nothing_to_say_is_invalid() -> None:
    item = {"sender": {"id": "1"}, "recipient": {"id": "2"}, "message": {"mid": "m"}}
    outcome = meta_payload.map_item("facebook", item)
    assert isinstance(outcome, Skipped)
    assert outcome.outcome == "invalid"
    assert "text, an attachment or a shared phone" in outcome.reason


def test_a_zalo_event_is_matched_to_its_apps_account_and_oa() -> None:
    first, second = (
        ZaloAccount(app_id="app", oa_id=oa, secret_key=SecretStr("k")) for oa in ("oa1", "oa2")
    )
    accounts = [first, second]
    assert zalo_payload.pick_account(accounts, "app", "oa2") == second
    assert zalo_payload.pick_account(accounts, "app", "unknown oa") == first
    assert zalo_payload.pick_account(accounts, "other app", "oa1") is None


def test_the_oa_of_a_zalo_event_is_its_recipient_unless_the_oa_sent_it() -> None:
    assert zalo_payload.event_oa_id({"event_name": "user_send_text", "recipient": {"id": "oa"}}) == "oa"  # fmt: skip
    assert zalo_payload.event_oa_id({"event_name": "oa_send_text", "sender": {"id": "oa"}}) == "oa"
    assert zalo_payload.event_oa_id({"event_name": "follow", "oa_id": 42}) == "42"
    assert zalo_payload.event_oa_id({"event_name": "follow"}) is None


def test_a_zalo_anonymous_text_is_a_customer_message() -> None:
    data = {
        "event_name": "anonymous_send_text",
        "sender": {"id": "anon-1"},
        "recipient": {"id": "oa"},
        "message": {"msg_id": "m1", "text": "Cho hỏi giá", "conversation_id": "c1"},
        "timestamp": "1700000000000",
    }
    outcome = zalo_payload.parse_event(data, "oa")
    assert isinstance(outcome, SocialMessage)
    assert (outcome.sender_id, outcome.thread_id, outcome.text) == (
        "anon-1",
        "anon-1",
        "Cho hỏi giá",
    )
