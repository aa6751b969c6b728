"""Twilio's SMS and voice webhooks through the app: a request signed the way Twilio signs
(checked against Twilio's own worked example) is published once; anything else is refused
before it reaches the inbound topic."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from s8_channels.accounts import TwilioAccount
from s8_channels.adapters.recipients import Recipient
from s8_channels.domain import twilio_payload
from s8_channels.settings import ChannelsSettings
from s8_shared.contracts.inbound import PhoneCall, SmsMessage
from s8_testing.channels_fakes import FakeRecipients, FakeSink, channels_app

FIXTURES = Path(__file__).parent / "fixtures"
SID = "ACf54dd7a47a8011d65b54d472a7190549"
TOKEN = "9f86d081884c7d659a2feaa0c55ad015"
PUBLIC = "https://s8.example.com/hooks"  # what Twilio calls; the proxy strips /hooks
SMS, VOICE = "/v1/channels/twilio/sms", "/v1/channels/twilio/voice"
Pairs = Sequence[tuple[str, str]]


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def pairs(name: str, key: str = "params") -> list[tuple[str, str]]:
    return [(n, v) for n, v in fixture(name)[key]]


def with_(params: Pairs, **changes: str) -> list[tuple[str, str]]:
    kept = [(n, changes.pop(n) if n in changes else v) for n, v in params]
    return kept + list(changes.items())


def reference_signature(token: str, url: str, params: Pairs) -> str:
    """Twilio's rule written out plainly, independent of the service's code."""
    text = url + "".join(n + v for n, v in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), text.encode(), hashlib.sha1).digest()).decode()


@dataclass
class Harness:
    http: httpx.AsyncClient
    app: FastAPI
    sink: FakeSink
    recipients: FakeRecipients

    def count(self, metric: str, outcome: str | None = None) -> float:
        labels = {"platform": "twilio"} | ({"outcome": outcome} if outcome else {})
        return float(self.app.state.runtime.registry.get_sample_value(metric, labels) or 0.0)

    def received(self, outcome: str) -> float:
        return self.count("s8_channels_received_total", outcome)

    def refused(self) -> float:
        return self.count("s8_channels_signature_failures_total")


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    account = TwilioAccount(account_sid=SID, auth_token=SecretStr(TOKEN), numbers=["+84287300123"])
    async with channels_app(ChannelsSettings(public_base_url=PUBLIC, twilio_accounts=[account])) as app:  # fmt: skip
        yield Harness(app.http, app.app, app.sink, app.recipients)


async def post(
    harness: Harness,
    path: str,
    params: Pairs,
    *,
    token: str = TOKEN,
    signed_url: str | None = None,
    query: str = "",
    body: bytes | None = None,
    signature: str | None = None,
) -> httpx.Response:
    url = signed_url or PUBLIC + path + (f"?{query}" if query else "")
    headers = {"content-type": "application/x-www-form-urlencoded"}
    sig = signature if signature is not None else reference_signature(token, url, params)
    if sig:
        headers["X-Twilio-Signature"] = sig
    content = body if body is not None else urlencode(params).encode()
    target = path + (f"?{query}" if query else "")
    response: httpx.Response = await harness.http.post(target, content=content, headers=headers)
    return response


async def test_a_signed_sms_is_published_with_its_media_and_its_number_remembered(
    harness: Harness,
) -> None:
    response = await post(harness, SMS, pairs("twilio_sms.json"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    [message] = harness.sink.published
    assert isinstance(message, SmsMessage)
    assert (message.channel_message_id, message.from_number, message.to_number) == (
        "MMb711289e438f577f230f5837e9c74a08",
        "+84903123456",
        "+84287300123",
    )
    assert message.text == "Máy giặt báo lỗi E21 + không xả nước, ảnh đính kèm"
    assert [(a.filename, a.content_type) for a in message.attachments] == [
        ("ME1f4b6a1d6c1b5c7a2f3e4d5c6b7a8f90.jpg", "image/jpeg"),
        ("ME2a5c7b2e7d2c6d8b3a4f5e6d7c8b9a01.pdf", "application/pdf"),
    ]
    assert message.raw["NumSegments"] == "2"
    assert message.raw["AccountSid"] == SID
    assert harness.recipients.known == {"sms:+84903123456": Recipient("twilio", "+84287300123")}
    assert harness.received("published") == 1


async def test_the_same_sms_sent_again_is_published_once(harness: Harness) -> None:
    for _ in range(2):
        assert (await post(harness, SMS, pairs("twilio_sms.json"))).status_code == 200
    assert len(harness.sink.published) == 1
    assert harness.received("duplicate") == 1


@pytest.mark.parametrize(
    ("case", "changes"),
    [
        ("no signature", {"signature": ""}),
        ("another auth token", {"token": "0" * 32}),
        (
            "signed for the proxy's address, not the public URL",
            {"signed_url": "http://channels" + SMS},
        ),
        ("not base64 at all", {"signature": "not-a-signature"}),
    ],
)
async def test_an_sms_not_signed_by_twilio_is_refused_counted_and_not_published(
    harness: Harness, case: str, changes: dict[str, Any]
) -> None:
    response = await post(harness, SMS, pairs("twilio_sms.json"), **changes)
    assert response.status_code == 401, case
    assert harness.sink.published == []
    assert harness.recipients.known == {}
    assert harness.refused() == 1


async def test_a_tampered_body_is_refused(harness: Harness) -> None:
    params = pairs("twilio_sms.json")
    signature = reference_signature(TOKEN, PUBLIC + SMS, params)
    tampered = with_(params, Body="chuyển khoản cho tôi")
    assert (await post(harness, SMS, tampered, signature=signature)).status_code == 401
    assert harness.sink.published == []


async def test_an_unknown_account_is_refused_even_when_signed_with_its_own_token(
    harness: Harness,
) -> None:
    params = with_(pairs("twilio_sms.json"), AccountSid="AC" + "1" * 32)
    assert (await post(harness, SMS, params, token="1" * 32)).status_code == 401
    assert harness.refused() == 1
    assert harness.sink.published == []


async def test_the_query_string_twilio_called_is_part_of_what_it_signed(harness: Harness) -> None:
    params = pairs("twilio_sms.json")
    assert (await post(harness, SMS, params, query="line=hcm&x=%2F")).status_code == 200
    unsigned_query = reference_signature(TOKEN, PUBLIC + SMS, params)
    assert (
        await post(harness, SMS, params, query="line=hn", signature=unsigned_query)
    ).status_code == 401


async def test_a_form_is_read_and_verified_as_twilio_encoded_it(harness: Harness) -> None:
    """`+` is a space, `%2B` a plus, UTF-8 percent-encoded; a blank value is signed too."""
    body = (
        f"AccountSid={SID}&MessageSid=SM1&From=%2B84903123456&To=%2B84287300123&ToState="
        "&Body=Xin+ch%C3%A0o%2C+t%C3%B4i+c%E1%BA%A7n+h%E1%BB%97+tr%E1%BB%A3+%2B+g%E1%BA%A5p"
    ).encode()
    params = [("AccountSid", SID), ("MessageSid", "SM1"), ("From", "+84903123456"),
              ("To", "+84287300123"), ("ToState", ""), ("Body", "Xin chào, tôi cần hỗ trợ + gấp")]  # fmt: skip
    assert (await post(harness, SMS, params, body=body)).status_code == 200
    [message] = harness.sink.published
    assert isinstance(message, SmsMessage)
    assert message.text == "Xin chào, tôi cần hỗ trợ + gấp"
    without_blank = reference_signature(TOKEN, PUBLIC + SMS, params[:4] + params[5:])
    refused = await post(harness, SMS, params, body=body, signature=without_blank)
    assert refused.status_code == 401


@pytest.mark.parametrize(
    ("case", "body"),
    [
        ("too many fields", "&".join(f"f{i}=x" for i in range(201)).encode()),
        ("not UTF-8", b"AccountSid=" + SID.encode() + b"&Body=\xff\xfe"),
        ("percent-encoded bytes that are not UTF-8", f"AccountSid={SID}&Body=%FF%FE".encode()),
    ],
)
async def test_a_malformed_form_is_a_400_and_publishes_nothing(
    harness: Harness, case: str, body: bytes
) -> None:
    response = await post(harness, SMS, [], body=body, signature="c2lnbmVk")
    assert response.status_code == 400, case
    assert harness.sink.published == []
    assert harness.received("invalid") == 1


async def test_a_signed_sms_with_neither_text_nor_media_is_a_400(harness: Harness) -> None:
    params = with_(pairs("twilio_sms.json"), Body="", NumMedia="0")
    assert (await post(harness, SMS, params)).status_code == 400
    assert harness.sink.published == []


async def test_a_call_is_acknowledged_until_it_is_over_then_published_once(
    harness: Harness,
) -> None:
    for stage in ("ringing", "gathered"):
        response = await post(harness, VOICE, pairs("twilio_voice.json", stage))
        assert (response.status_code, response.text) == (200, twilio_payload.EMPTY_TWIML)
    assert harness.sink.published == []
    assert harness.received("ignored") == 2
    for _ in range(2):  # the status callback, retried
        assert (
            await post(harness, VOICE, pairs("twilio_voice.json", "completed"))
        ).status_code == 200
    [call] = harness.sink.published
    assert isinstance(call, PhoneCall)
    assert (call.channel_message_id, call.caller_number, call.dialled_line) == (
        "CA5f0c0f5e7a4b3c2d1e0f9a8b7c6d5e4f",
        "+84903123456",
        "+84287300123",
    )
    assert (call.duration_seconds, call.missed, call.abandoned) == (127, False, False)
    assert call.received_at is not None
    assert call.received_at.isoformat() == "2026-01-05T09:12:44+00:00"
    assert harness.received("duplicate") == 1


@pytest.mark.parametrize("status", ["no-answer", "busy", "canceled", "failed"])
async def test_a_call_nobody_answered_is_published_as_missed(harness: Harness, status: str) -> None:
    params = with_(pairs("twilio_voice.json", "completed"), CallStatus=status, CallDuration="0")
    assert (await post(harness, VOICE, params)).status_code == 200
    [call] = harness.sink.published
    assert isinstance(call, PhoneCall)
    assert call.missed
    assert call.duration_seconds == 0


async def test_a_call_s8_placed_is_not_a_customer_message(harness: Harness) -> None:
    params = with_(pairs("twilio_voice.json", "completed"), Direction="outbound-api")
    assert (await post(harness, VOICE, params)).status_code == 200
    assert harness.sink.published == []
    assert harness.received("ignored") == 1


async def test_an_unsigned_call_status_is_refused(harness: Harness) -> None:
    response = await post(harness, VOICE, pairs("twilio_voice.json", "completed"), signature="")
    assert response.status_code == 401
    assert harness.sink.published == []


def test_the_openapi_document_declares_the_twilio_signature(harness: Harness) -> None:
    paths = harness.app.openapi()["paths"]
    for path in (SMS, VOICE):
        operation = paths[path]["post"]
        assert operation["security"] == [{"twilioSignature": []}]
        assert {"200", "400", "401"} <= set(operation["responses"])
        assert "application/x-www-form-urlencoded" in operation["requestBody"]["content"]
