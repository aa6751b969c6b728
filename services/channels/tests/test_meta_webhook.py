"""Meta's webhook through the app, with Meta's published samples signed the way Meta signs."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from s8_channels.accounts import MetaApp
from s8_channels.adapters.recipients import Recipient
from s8_channels.settings import ChannelsSettings
from s8_shared.contracts.inbound import Attachment, SocialMessage
from s8_testing.channels_fakes import ChannelsApp as Harness

FIXTURES = Path(__file__).parent / "fixtures"
APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "s8-verify-token"
WEBHOOK = "/v1/channels/meta/webhook"
PAGE = "682498302938465"


def sample(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed(body: bytes) -> dict[str, str]:
    return {"X-Hub-Signature-256": signature(body), "Content-Type": "application/json"}


def batch(*messaging: dict[str, Any], kind: str = "page") -> bytes:
    entry = {"id": PAGE, "time": 1458692752478, "messaging": list(messaging)}
    return json.dumps({"object": kind, "entry": [entry]}).encode()


def text_item(mid: str, text: str = "xin chào", sender: str = "1254938275682919") -> dict[str, Any]:
    return {
        "sender": {"id": sender},
        "recipient": {"id": PAGE},
        "timestamp": 1458692752478,
        "message": {"mid": mid, "text": text},
    }


@pytest.fixture
def settings() -> ChannelsSettings:
    return ChannelsSettings(
        meta=MetaApp(app_secret=SecretStr(APP_SECRET), verify_token=SecretStr(VERIFY_TOKEN))
    )


# --- the subscription handshake ----------------------------------------------------------


async def test_the_handshake_echoes_the_challenge_as_plain_text(harness: Harness) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    response = await harness.http.get(WEBHOOK, params=params)
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "guessed", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN[:-1], "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": "vérify", "hub.challenge": "1"},
    ],
)
async def test_a_handshake_without_the_verify_token_is_refused_with_403(
    harness: Harness, params: dict[str, str]
) -> None:
    response = await harness.http.get(WEBHOOK, params=params)
    assert response.status_code == 403


async def test_with_no_meta_app_configured_the_handshake_gets_403_and_events_401(
    harness: Harness,
) -> None:
    channels = harness.app.state.channels
    harness.app.state.channels = dataclasses.replace(channels, settings=ChannelsSettings())
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}
    assert (await harness.http.get(WEBHOOK, params=params)).status_code == 403
    body = sample("meta_messenger_batch.json")
    response = await harness.http.post(WEBHOOK, content=body, headers=signed(body))
    assert response.status_code == 401
    assert harness.sink.published == []
    assert harness.refused("meta") == 1


# --- signed events -----------------------------------------------------------------------


async def test_a_signed_batch_publishes_every_customer_message_of_every_entry(
    harness: Harness,
) -> None:
    body = sample("meta_messenger_batch.json")
    response = await harness.http.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 200
    assert response.json() == {
        "published": 3,
        "duplicates": 0,
        "profile_updates": 0,
        "ignored": 3,
        "invalid": 0,
    }
    published = harness.sink.published
    assert [m.channel_message_id for m in published] == [
        "mid.1457764197618:41d102a3e1ae206a38",
        "m_1457764197618:41d102a3e1ae206a38",
        "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_c",
    ]  # the echo (the page's own message), the delivery and the read receipts are not
    first = published[0]
    assert isinstance(first, SocialMessage)
    assert (first.platform, first.page_id, first.sender_id, first.thread_id) == (
        "facebook",
        PAGE,
        "1254938275682919",
        "1254938275682919",
    )
    assert first.text == "hello, world!"
    assert first.received_at == datetime(2016, 3, 23, 0, 25, 52, 478000, tzinfo=UTC)
    assert harness.received("facebook", "published") == 3
    assert harness.received("facebook", "ignored") == 3
    assert harness.recipients.known == {
        "social:1254938275682919": Recipient("facebook", PAGE),
        "social:2203951862986103": Recipient("facebook", PAGE),
    }


async def test_attachments_are_metadata_and_the_messaging_item_is_kept_whole_in_raw(
    harness: Harness,
) -> None:
    body = sample("meta_messenger_batch.json")
    await harness.http.post(WEBHOOK, content=body, headers=signed(body))

    message = harness.sink.published[2]
    assert isinstance(message, SocialMessage)
    assert message.text == ""
    assert message.attachments == [
        Attachment(
            filename="27836578_10155_n.jpg",
            content_type="image/*",
            url="https://scontent.xx.fbcdn.net/v/t1.15752-9/27836578_10155_n.jpg?_nc_cat=0&oh=5a1b&oe=5B0F",
        ),
        Attachment(
            filename="Hóa đơn tháng 3.pdf",
            content_type="application/octet-stream",
            url="https://cdn.fbsbx.com/v/t59.2708-21/27999_10156_n.pdf/H%C3%B3a%20%C4%91%C6%A1n%20th%C3%A1ng%203.pdf?_nc_cat=0",
        ),
    ]
    item = json.loads(body)["entry"][1]["messaging"][0]
    assert message.raw == item
    reply = harness.sink.published[1]
    assert reply.raw["message"]["reply_to"]["mid"] == "m_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU"


async def test_an_instagram_message_is_published_for_the_instagram_account(
    harness: Harness,
) -> None:
    body = sample("meta_instagram.json")
    response = await harness.http.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 200
    text, share = harness.sink.published
    assert isinstance(text, SocialMessage)
    assert isinstance(share, SocialMessage)
    assert (text.platform, text.page_id, text.sender_id) == (
        "instagram",
        "17841405309211844",
        "6958745362179421",
    )
    assert text.text == "Shop ơi, áo này còn size M không?"
    # A shared post's URL names no file: the attachment is named by its kind.
    assert share.attachments[0].filename == "share"
    assert share.attachments[0].url is not None
    assert (
        share.raw["message"]["attachments"][0]["payload"]["ig_post_media_id"] == "18139494541428835"
    )
    assert harness.received("instagram", "published") == 2
    assert harness.recipients.known["social:6958745362179421"] == Recipient(
        "instagram", "17841405309211844"
    )


async def test_a_redelivered_batch_publishes_each_mid_once(harness: Harness) -> None:
    body = sample("meta_messenger_batch.json")
    await harness.http.post(WEBHOOK, content=body, headers=signed(body))
    again = await harness.http.post(WEBHOOK, content=body, headers=signed(body))

    assert again.status_code == 200
    assert again.json()["published"] == 0
    assert again.json()["duplicates"] == 3
    assert len(harness.sink.published) == 3
    assert harness.received("facebook", "duplicate") == 3


async def test_an_item_that_cannot_be_mapped_is_counted_invalid_and_the_others_published(
    harness: Harness,
) -> None:
    no_sender = text_item("m_2")
    del no_sender["sender"]
    body = batch(text_item("m_1"), no_sender, {"message": "not an object"}, text_item("m_3"))
    response = await harness.http.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 200  # else Meta re-sends the whole batch, again and again
    assert response.json()["invalid"] == 2
    assert [m.channel_message_id for m in harness.sink.published] == ["m_1", "m_3"]
    assert harness.received("facebook", "invalid") == 2


async def test_numeric_ids_are_kept_as_strings(harness: Harness) -> None:
    item = text_item("m_1")
    item["sender"]["id"], item["recipient"]["id"] = 1254938275682919, 682498302938465
    body = batch(item)
    await harness.http.post(WEBHOOK, content=body, headers=signed(body))

    (message,) = harness.sink.published
    assert isinstance(message, SocialMessage)
    assert (message.sender_id, message.page_id) == ("1254938275682919", PAGE)


# --- refused requests --------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha256=" + "0" * 64,
        "sha1=" + hmac.new(APP_SECRET.encode(), b"", hashlib.sha1).hexdigest(),
        "sha256=" + hmac.new(b"another app's secret", b"", hashlib.sha256).hexdigest(),
        "sha256=é".encode("latin-1"),  # a header is bytes: anything may come
    ],
    ids=["missing", "empty", "no-hex", "zeros", "sha1", "other-secret", "non-ascii"],
)
async def test_a_missing_or_wrong_signature_is_refused_counted_and_nothing_published(
    harness: Harness, header: str | bytes | None
) -> None:
    # Bytes on the wire: a header may carry any byte, not only ASCII.
    body = sample("meta_messenger_batch.json")
    headers = {b"content-type": b"application/json"}
    if header is not None:
        headers[b"x-hub-signature-256"] = header.encode() if isinstance(header, str) else header
    response = await harness.http.post(WEBHOOK, content=body, headers=headers)

    assert response.status_code == 401
    assert "meta signature refused" in response.json()["detail"]
    assert harness.refused("meta") == 1
    assert harness.sink.published == []
    assert harness.recipients.known == {}


async def test_a_signature_of_other_bytes_is_refused_even_for_the_same_json(
    harness: Harness,
) -> None:
    body = sample("meta_messenger_batch.json")
    compact = json.dumps(json.loads(body), separators=(",", ":")).encode()
    response = await harness.http.post(WEBHOOK, content=body, headers=signed(compact))

    assert response.status_code == 401
    assert harness.sink.published == []


async def test_the_hex_digest_may_come_in_upper_case(harness: Harness) -> None:
    body = batch(text_item("m_1"))
    headers = {"X-Hub-Signature-256": "sha256=" + signature(body)[7:].upper()}
    assert (await harness.http.post(WEBHOOK, content=body, headers=headers)).status_code == 200


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "expected a JSON object"),
        (b'{"entry": []}', "no `object`"),
        (b'{"object": "page", "entry": {}}', "`entry` is not a list"),
        (b'{"object": "page", "entry": ["x"]}', "an entry is not an object"),
        (b'{"object": "page", "entry": [{"messaging": {}}]}', "`messaging` is not a list"),
    ],
)
async def test_a_signed_body_that_is_not_a_meta_batch_is_refused_with_400(
    harness: Harness, body: bytes, reason: str
) -> None:
    response = await harness.http.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert harness.sink.published == []


async def test_another_products_webhook_is_acknowledged_and_ignored(harness: Harness) -> None:
    body = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
    response = await harness.http.post(WEBHOOK, content=body, headers=signed(body))

    assert response.status_code == 200
    assert harness.received("meta", "ignored") == 1


async def test_the_events_route_declares_its_signature_in_openapi(harness: Harness) -> None:
    spec = (await harness.http.get("/openapi.json")).json()
    post = spec["paths"][WEBHOOK]["post"]
    assert post["security"] == [{"metaSignature": []}]
    assert {"400", "401"} <= set(post["responses"])
    scheme = spec["components"]["securitySchemes"]["metaSignature"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == (
        "apiKey",
        "header",
        "X-Hub-Signature-256",
    )
