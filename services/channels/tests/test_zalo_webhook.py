"""Zalo OA's webhook through the app, with Zalo's published samples signed the way Zalo signs:
`mac=` + sha256(app_id + raw body + timestamp + OA secret key)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from s8_channels.accounts import ZaloAccount
from s8_channels.adapters.recipients import Recipient
from s8_channels.domain.zalo_payload import SHARED_INFO_TEXT
from s8_channels.settings import ChannelsSettings
from s8_shared.contracts import Identity
from s8_shared.contracts.customers import ChannelFollow
from s8_shared.contracts.inbound import Attachment, SocialMessage
from s8_testing.channels_fakes import ChannelsApp as Harness

FIXTURES = Path(__file__).parent / "fixtures"
WEBHOOK = "/v1/channels/zalo/webhook"
# One account per sample: Zalo's docs use a different app and OA id in each example.
ACCOUNTS = {
    "360846524940903967": ("388613280878808645", "oa-secret-messages"),
    "36084652489903967": ("388613280879808645", "oa-secret-follow"),
    "3608465248940903967": ("388613280879880645", "oa-secret-submit-info"),
}
USER = "246845883529197922"
OA = "388613280878808645"


def sample(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def mac(body: bytes, secret: str | None = None) -> str:
    sent = json.loads(body)
    app_id, timestamp = str(sent["app_id"]), sent["timestamp"]
    key = (secret or ACCOUNTS[app_id][1]).encode()
    return "mac=" + hashlib.sha256(app_id.encode() + body + timestamp.encode() + key).hexdigest()


def signed(body: bytes, secret: str | None = None) -> dict[str, str]:
    return {"X-ZEvent-Signature": mac(body, secret), "Content-Type": "application/json"}


def event(name: str, **fields: Any) -> bytes:
    """Zalo's envelope, as in its user_send_text example, with other fields."""
    base = json.loads(sample("zalo_user_send_text.json"))
    return json.dumps({**base, "event_name": name, **fields}, ensure_ascii=False).encode()


@pytest.fixture
def settings() -> ChannelsSettings:
    return ChannelsSettings(
        zalo_accounts=[
            ZaloAccount(app_id=app, oa_id=oa, secret_key=SecretStr(secret))
            for app, (oa, secret) in ACCOUNTS.items()
        ]
    )


# --- customers' messages -----------------------------------------------------------------


async def test_a_signed_text_message_is_published_with_the_oa_as_page(harness: Harness) -> None:
    body = sample("zalo_user_send_text.json")
    response = await harness.http.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 200
    assert response.json()["published"] == 1
    (message,) = harness.sink.published
    assert isinstance(message, SocialMessage)
    assert (message.platform, message.page_id, message.sender_id, message.thread_id) == (
        "zalo",
        OA,
        USER,
        USER,
    )
    assert (message.channel_message_id, message.text) == ("96d3cdf3af150460909", "message")
    assert message.received_at == datetime.fromtimestamp(154390853474 / 1000, UTC)
    assert message.raw == json.loads(body)  # the whole event, user_id_by_app included
    assert harness.recipients.known == {f"social:{USER}": Recipient("zalo", OA)}
    assert harness.received("zalo", "published") == 1


async def test_a_user_send_image_carries_its_image_as_an_attachment(harness: Harness) -> None:
    body = sample("zalo_user_send_image.json")
    response = await harness.http.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 200
    (message,) = harness.sink.published
    assert isinstance(message, SocialMessage)
    assert message.attachments == [
        Attachment(
            filename="2f1c7b3a9e.jpg",
            content_type="image/*",
            url="https://photo.zalo.example/full/2f1c7b3a9e.jpg",
        )
    ]


async def test_a_file_keeps_its_name_and_size_and_a_location_its_coordinates_in_raw(
    harness: Harness,
) -> None:
    payload = {"url": "https://f.zalo.example/d/x", "name": "báo giá.xlsx", "size": "20480"}
    file = {"type": "file", "payload": {**payload, "checksum": "9e107d9d", "type": "xlsx"}}
    place = {
        "type": "location",
        "payload": {"coordinates": {"latitude": "10.7626", "longitude": "106.6601"}},
    }
    for name, attachment, msg_id in (
        ("user_send_file", file, "m-file"),
        ("user_send_location", place, "m-place"),
    ):
        body = event(name, message={"msg_id": msg_id, "text": "", "attachments": [attachment]})
        assert (await harness.http.post(WEBHOOK, content=body, headers=signed(body))).is_success

    sent_file, sent_place = harness.sink.published
    assert isinstance(sent_file, SocialMessage)
    assert isinstance(sent_place, SocialMessage)
    assert sent_file.attachments == [
        Attachment(
            filename="báo giá.xlsx",
            content_type="application/octet-stream",
            size_bytes=20480,
            url="https://f.zalo.example/d/x",
        )
    ]
    assert sent_place.attachments == [Attachment(filename="location")]
    coordinates = sent_place.raw["message"]["attachments"][0]["payload"]["coordinates"]
    assert coordinates == {"latitude": "10.7626", "longitude": "106.6601"}


async def test_a_redelivered_event_is_published_once(harness: Harness) -> None:
    body = sample("zalo_user_send_text.json")
    await harness.http.post(WEBHOOK, content=body, headers=signed(body))
    again = await harness.http.post(WEBHOOK, content=body, headers=signed(body))

    assert again.status_code == 200
    assert again.json()["duplicates"] == 1
    assert len(harness.sink.published) == 1
    assert harness.received("zalo", "duplicate") == 1


async def test_user_submit_info_publishes_the_phone_zalo_vouches_for(harness: Harness) -> None:
    body = sample("zalo_user_submit_info.json")
    response = await harness.http.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 200
    (message,) = harness.sink.published
    assert isinstance(message, SocialMessage)
    assert message.shared_phone == "84912345678"
    assert message.sender_name == "Name Example"
    assert message.text == SHARED_INFO_TEXT
    assert message.channel_message_id == "submit_info:246845883529697922:1540368141908"
    assert message.page_id == "388613280879880645"
    assert message.raw["info"]["full_address"]["user_ward"] == "Phường Tân Thuận"


async def test_user_submit_info_in_the_older_shape_also_shares_the_phone(harness: Harness) -> None:
    info = {
        "address": "12 Lý Thường Kiệt",
        "phone": "84987654321",
        "city": "Hà Nội",
        "district": "Hoàn Kiếm",
        "name": "Trần Thị B",
    }
    body = event("user_submit_info", info=info)
    assert (await harness.http.post(WEBHOOK, content=body, headers=signed(body))).is_success

    (message,) = harness.sink.published
    assert isinstance(message, SocialMessage)
    assert (message.shared_phone, message.sender_name) == ("84987654321", "Trần Thị B")


# --- follow state ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "following"), [("follow", True), ("unfollow", False)])
async def test_follow_and_unfollow_upsert_the_follow_state_on_the_customer(
    harness: Harness, name: str, following: bool
) -> None:
    sent = json.loads(sample("zalo_follow.json"))
    body = (
        sample("zalo_follow.json")
        if name == "follow"
        else json.dumps({**sent, "event_name": name}).encode()
    )
    response = await harness.http.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 200
    assert response.json()["profile_updates"] == 1
    (upsert,) = harness.customers.upserts
    assert upsert.identities == [Identity(kind="zalo", value="24684588352919792")]
    assert upsert.follow == ChannelFollow(
        account="zalo:388613280879808645",
        following=following,
        at=datetime.fromtimestamp(154397978274 / 1000, UTC),
    )
    assert harness.sink.published == []
    # The same event re-sent is the same upsert (applied once downstream).
    await harness.http.post(WEBHOOK, content=body, headers=signed(body))
    assert harness.customers.upserts[1].upsert_id == upsert.upsert_id


# --- acknowledged, not published ---------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "user_received_message",
        "user_seen_message",
        "oa_send_text",
        "user_click_button",
        "user_reacted_message",
    ],
)
async def test_receipts_the_oas_own_messages_and_clicks_are_acknowledged_and_ignored(
    harness: Harness, name: str
) -> None:
    body = event(name)
    response = await harness.http.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 200
    assert response.json()["ignored"] == 1
    assert harness.sink.published == []
    assert harness.customers.upserts == []
    assert harness.received("zalo", "ignored") == 1


async def test_a_message_event_that_cannot_be_mapped_is_acknowledged_and_counted_invalid(
    harness: Harness,
) -> None:
    body = event("user_send_text", message={"text": "no msg_id"})
    response = await harness.http.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 200  # a re-send would fail the same way
    assert response.json()["invalid"] == 1
    assert harness.received("zalo", "invalid") == 1


# --- refused requests --------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "mac=",
        "mac=" + "0" * 64,
        "sha256=" + hashlib.sha256(b"x").hexdigest(),
        "wrong-secret",
        "mac=é".encode("latin-1"),  # a header is bytes: anything may come
    ],
    ids=["missing", "empty", "no-hex", "zeros", "not-mac", "other-secret", "non-ascii"],
)
async def test_a_missing_or_wrong_signature_is_refused_counted_and_nothing_published(
    harness: Harness, header: str | bytes | None
) -> None:
    body = sample("zalo_user_send_text.json")
    headers = {b"content-type": b"application/json"}
    if header == "wrong-secret":
        header = mac(body, secret="not the OA's key")
    # Bytes on the wire: a header may carry any byte, not only ASCII.
    if header is not None:
        headers[b"x-zevent-signature"] = header.encode() if isinstance(header, str) else header
    response = await harness.http.post(WEBHOOK, content=body, headers=headers)

    assert response.status_code == 401
    assert harness.refused("zalo") == 1
    assert harness.sink.published == []
    assert harness.recipients.known == {}


async def test_the_signature_covers_the_raw_bytes_not_the_json_they_carry(
    harness: Harness,
) -> None:
    body = sample("zalo_user_send_text.json")
    compact = json.dumps(json.loads(body), separators=(",", ":")).encode()
    response = await harness.http.post(
        WEBHOOK, content=body, headers={"X-ZEvent-Signature": mac(compact)}
    )

    assert response.status_code == 401
    assert harness.sink.published == []


@pytest.mark.parametrize("app_id", ["999999999999999999", None])
async def test_an_unknown_or_missing_app_id_is_refused_with_401(
    harness: Harness, app_id: str | None
) -> None:
    sent = json.loads(sample("zalo_user_send_text.json"))
    sent["app_id"] = app_id
    body = json.dumps(sent).encode()
    headers = signed(body, secret="oa-secret-messages")  # the right key of another app
    response = await harness.http.post(WEBHOOK, content=body, headers=headers)

    assert response.status_code == 401
    assert harness.refused("zalo") == 1
    assert harness.sink.published == []


async def test_one_app_serving_two_oas_is_checked_with_the_addressed_oas_key(
    harness: Harness, settings: ChannelsSettings
) -> None:
    app = "360846524940903967"
    other = ZaloAccount(app_id=app, oa_id="111", secret_key=SecretStr("other-oa-secret"))
    channels = harness.app.state.channels
    two = channels.settings.model_copy(update={"zalo_accounts": [other, *settings.zalo_accounts]})
    harness.app.state.channels = dataclasses.replace(channels, settings=two)
    body = event("user_send_text", recipient={"id": "111"})

    wrong = await harness.http.post(WEBHOOK, content=body, headers=signed(body))
    right = await harness.http.post(WEBHOOK, content=body, headers=signed(body, "other-oa-secret"))

    assert (wrong.status_code, right.status_code) == (401, 200)
    assert harness.recipients.known[f"social:{USER}"] == Recipient("zalo", "111")


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"{not json", "not valid JSON"), (b'["x"]', "expected a JSON object")],
)
async def test_a_body_that_is_not_json_is_refused_with_400(
    harness: Harness, body: bytes, reason: str
) -> None:
    headers = {"X-ZEvent-Signature": "mac=0"}
    response = await harness.http.post(WEBHOOK, content=body, headers=headers)

    assert response.status_code == 400
    assert reason in response.json()["detail"]


async def test_a_signed_body_that_is_no_zalo_event_is_refused_with_400(harness: Harness) -> None:
    body = json.dumps({"app_id": "360846524940903967", "timestamp": "154390853474"}).encode()
    response = await harness.http.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 400
    assert "event_name" in response.json()["detail"]


async def test_the_route_declares_its_signature_in_openapi(harness: Harness) -> None:
    spec = (await harness.http.get("/openapi.json")).json()
    post = spec["paths"][WEBHOOK]["post"]
    assert post["security"] == [{"zaloSignature": []}]
    assert {"400", "401"} <= set(post["responses"])
    scheme = spec["components"]["securitySchemes"]["zaloSignature"]
    assert (scheme["in"], scheme["name"]) == ("header", "X-ZEvent-Signature")
