"""The channels service on the real broker and store, with intake: each platform's own signed
request and a raw MIME mail relayed over SMTP become tickets, a wrongly signed request does
not, a missed call is a callback request, and s8's answer to the mail is delivered to a real
SMTP server with its threading headers and reported on the outbound topic."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode

import aiosmtplib
import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from s8_channels.app import build as build_channels
from s8_channels.settings import ChannelsSettings
from s8_intake.app import build as build_intake
from s8_intake.settings import IntakeSettings
from s8_shared import topics
from s8_shared.contracts import OUTBOUND_EVENTS, TICKET_EVENTS, Event
from s8_testing.harness import TestStack, eventually

pytestmark = pytest.mark.integration

META_SECRET = "test-meta-app-secret"
ZALO_APP, ZALO_OA, ZALO_KEY = "3608465249409039", "3886132808788086", "test-zalo-oa-key"
TWILIO_SID, TWILIO_TOKEN = "AC" + "ab" * 16, "test-twilio-token"
PUBLIC = "https://channels.s8.example.vn"
SUPPORT = "hotro@s8-test.vn"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Sink:
    """A real SMTP server standing in for the organisation's relay."""

    mails: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        mail = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(mail, EmailMessage)
        self.mails.append(mail)
        return "250 OK"


@dataclass
class Running:
    http: httpx.AsyncClient
    stack: TestStack
    smtp_port: int
    sink: Sink

    async def created(self) -> list[Event[Any]]:
        return [
            e for e in await self.stack.read_all(topics.TICKETS, TICKET_EVENTS)
            if e.type == "ticket.created"
        ]  # fmt: skip

    async def ticket_saying(self, text: str) -> Event[Any]:
        async def found() -> Event[Any] | None:
            return next((e for e in await self.created() if text in e.payload.first_message.text), None)  # fmt: skip

        event = await eventually(found, within=60, what=f"a ticket saying {text!r}")
        assert event is not None
        return event


@pytest.fixture
async def running(stack: TestStack) -> AsyncIterator[Running]:
    sink = Sink()
    relay_port, smtp_port = free_port(), free_port()
    loop = asyncio.get_running_loop()
    relay = await loop.create_server(lambda: SMTP(sink), "127.0.0.1", relay_port)
    channels_settings = stack.settings(
        ChannelsSettings,
        public_base_url=PUBLIC,
        meta={"app_secret": META_SECRET, "verify_token": "v", "page_tokens": {"p-1": "t"}},
        zalo_accounts=[{"app_id": ZALO_APP, "oa_id": ZALO_OA, "secret_key": ZALO_KEY}],
        twilio_accounts=[{"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN}],
        smtp_receiver_port=smtp_port,
        smtp_relay_host="127.0.0.1",
        smtp_relay_port=relay_port,
        smtp_relay_starttls=False,
        mail_from=SUPPORT,
        delivery_backoff_seconds=0.1,
    )
    intake_settings = stack.settings(IntakeSettings, own_addresses=[SUPPORT])
    channels_runtime, app = build_channels(channels_settings)
    async with stack.running(build_intake, intake_settings):
        await channels_runtime.start()
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url=PUBLIC
            ) as http:
                yield Running(http, stack, smtp_port, sink)
        finally:
            await channels_runtime.stop()
            relay.close()


def meta_request(mid: str, text: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "p-1",
                    "time": 1764835200000,
                    "messaging": [
                        {
                            "sender": {"id": "24012345678901234"},
                            "recipient": {"id": "p-1"},
                            "timestamp": 1764835200000,
                            "message": {"mid": mid, "text": text},
                        }
                    ],
                }
            ],
        }
    ).encode()
    digest = hmac.new(META_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return body, {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def zalo_request(msg_id: str, text: str) -> tuple[bytes, dict[str, str]]:
    timestamp = "1764835200000"
    body = json.dumps(
        {
            "app_id": ZALO_APP,
            "user_id_by_app": "552177279717587730",
            "event_name": "user_send_text",
            "timestamp": timestamp,
            "sender": {"id": "2512523625412515"},
            "recipient": {"id": ZALO_OA},
            "message": {"msg_id": msg_id, "text": text},
        }
    ).encode()
    mac = hashlib.sha256(ZALO_APP.encode() + body + timestamp.encode() + ZALO_KEY.encode())
    return body, {
        "X-ZEvent-Signature": f"mac={mac.hexdigest()}",
        "Content-Type": "application/json",
    }


def twilio_request(path: str, params: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    signed = PUBLIC + path + "".join(k + params[k] for k in sorted(params))
    digest = hmac.new(TWILIO_TOKEN.encode(), signed.encode(), hashlib.sha1).digest()
    return urlencode(params).encode(), {
        "X-Twilio-Signature": base64.b64encode(digest).decode(),
        "Content-Type": "application/x-www-form-urlencoded",
    }


async def test_signed_platform_messages_and_a_relayed_mail_become_tickets_and_forgeries_do_not(
    running: Running,
) -> None:
    http = running.http
    body, headers = meta_request("m_e2e_1", "Shop ơi đơn A1023 giao chưa?")
    assert (await http.post("/v1/channels/meta/webhook", content=body, headers=headers)).status_code == 200  # fmt: skip
    body, headers = zalo_request("zalo-e2e-1", "Máy lạnh nhà em bị chảy nước")
    assert (await http.post("/v1/channels/zalo/webhook", content=body, headers=headers)).status_code == 200  # fmt: skip
    sms = {"MessageSid": "SM" + "1" * 32, "AccountSid": TWILIO_SID, "From": "+84903123456",
           "To": "+842873008888", "Body": "Tôi muốn đổi lịch giao hàng", "NumMedia": "0"}  # fmt: skip
    body, headers = twilio_request("/v1/channels/twilio/sms", sms)
    assert (await http.post("/v1/channels/twilio/sms", content=body, headers=headers)).status_code == 200  # fmt: skip
    call = {"CallSid": "CA" + "2" * 32, "AccountSid": TWILIO_SID, "From": "+84912345678",
            "To": "+842873008888", "CallStatus": "no-answer", "Direction": "inbound"}  # fmt: skip
    body, headers = twilio_request("/v1/channels/twilio/voice", call)
    assert (await http.post("/v1/channels/twilio/voice", content=body, headers=headers)).status_code == 200  # fmt: skip

    mail = EmailMessage()
    mail["From"] = "Nguyễn Thị Lan <lan.nguyen@example.vn>"
    mail["To"] = SUPPORT
    mail["Subject"] = "Hoàn tiền đơn A2048"
    mail["Message-ID"] = "<e2e-mail-1@example.vn>"
    mail.set_content("Tôi chưa nhận được tiền hoàn cho đơn A2048, nhờ kiểm tra giúp.")
    await aiosmtplib.send(mail, hostname="127.0.0.1", port=running.smtp_port)

    # Forged: the right shape with the wrong secret. 401, and nothing reaches the topic.
    forged, headers = meta_request("m_forged", "Tin giả mạo không được thành ticket")
    headers["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    refused = await http.post("/v1/channels/meta/webhook", content=forged, headers=headers)
    assert refused.status_code == 401
    unsigned, _ = zalo_request("zalo-forged", "Tin giả mạo Zalo")
    assert (await http.post("/v1/channels/zalo/webhook", content=unsigned)).status_code == 401

    facebook = await running.ticket_saying("đơn A1023 giao chưa")
    zalo = await running.ticket_saying("chảy nước")
    text = await running.ticket_saying("đổi lịch giao hàng")
    missed = await running.ticket_saying("+84912345678")
    email = await running.ticket_saying("tiền hoàn cho đơn A2048")
    assert facebook.payload.ticket.channel == zalo.payload.ticket.channel == "social"
    assert text.payload.ticket.channel == "sms"
    assert (missed.payload.ticket.channel, missed.payload.ticket.callback_requested) == ("phone", True)  # fmt: skip
    assert missed.payload.ticket.priority == "high"
    assert email.payload.ticket.subject == "Hoàn tiền đơn A2048"

    # The mail's acknowledgement goes out through the relay, threaded on the customer's mail.
    ticket_id = email.payload.ticket_id

    async def delivered() -> list[Event[Any]]:
        return [
            e for e in await running.stack.read_all(topics.OUTBOUND, OUTBOUND_EVENTS)
            if e.type == "outbound.delivered" and e.payload.ticket_id == ticket_id
        ]  # fmt: skip

    [report] = await eventually(delivered, within=60, what="the acknowledgement delivered")
    assert report.payload.provider == "smtp"
    [ack] = [m for m in running.sink.mails if f"[#{ticket_id}]" in str(m["Subject"])]
    assert ack["In-Reply-To"] == "<e2e-mail-1@example.vn>"
    assert ack["To"] == "lan.nguyen@example.vn"
    assert ack["Message-ID"] == report.payload.provider_message_id
    assert ack["Auto-Submitted"] == "auto-generated"

    # No forgery ever became a ticket: intake has handled everything on the topic.
    await running.stack.caught_up(running.stack.settings(IntakeSettings), topics.INBOUND, within=60)
    texts = [e.payload.first_message.text for e in await running.created()]
    assert not any("giả mạo" in t for t in texts)
    assert len(texts) == 5
