"""`make run`'s native channels (deploy/local/native_*.py): the local outlets s8-channels
delivers to count what they get; the demo's requests are signed as each platform signs them
(checked here against implementations written from the platforms' documented algorithms,
not the demo's code); s8-channels itself, in-process over in-memory fakes (no Kafka), takes the
genuine ones and refuses the forged ones, and the live view reads its metrics."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import email
import email.policy
import hashlib
import hmac
import json
from datetime import datetime
from email.message import EmailMessage
from urllib.parse import parse_qs, parse_qsl, urlsplit

import aiosmtplib
import httpx
import pytest
from native_demo import NativePorts, NativeStats, channel_env, channel_lines, send_native
from native_outlets import LocalOutlets, OutletStats, serving
from native_requests import NativeRequest, NativeTraffic
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from s8_channels.adapters.customer_upserts import CustomerUpserts
from s8_channels.adapters.inbound_sink import InboundSink
from s8_channels.adapters.recipients import Recipient, Recipients
from s8_channels.app import build
from s8_channels.settings import ChannelsSettings
from s8_shared.contracts import ChannelMessage, CustomerProfileUpsert
from s8_shared.contracts.inbound import PhoneCall

PORT_BASE = 8000
ENV = channel_env(PORT_BASE, 8026, 8027)
BASE_URL = NativePorts.for_stack(PORT_BASE).public_base_url


# --- each platform's own check, from its documentation ----------------------------------


def meta_valid(request: NativeRequest) -> bool:
    secret = json.loads(ENV["S8_META"])["app_secret"].encode()
    expected = "sha256=" + hmac.new(secret, request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, request.headers["X-Hub-Signature-256"])


def zalo_valid(request: NativeRequest) -> bool:
    event = json.loads(request.body)
    [account] = [a for a in json.loads(ENV["S8_ZALO_ACCOUNTS"]) if a["app_id"] == event["app_id"]]
    signed = event["app_id"].encode() + request.body + event["timestamp"].encode()
    expected = "mac=" + hashlib.sha256(signed + account["secret_key"].encode()).hexdigest()
    return hmac.compare_digest(expected, request.headers["X-ZEvent-Signature"])


def twilio_valid(request: NativeRequest) -> bool:
    params = dict(parse_qsl(request.body.decode(), keep_blank_values=True))
    [account] = [a for a in json.loads(ENV["S8_TWILIO_ACCOUNTS"]) if a["account_sid"] == params["AccountSid"]]  # fmt: skip
    text = ENV["S8_PUBLIC_BASE_URL"] + request.path + "".join(n + params[n] for n in sorted(params))
    digest = hmac.new(account["auth_token"].encode(), text.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), request.headers["X-Twilio-Signature"])  # fmt: skip


def stringee_valid(request: NativeRequest) -> bool:
    event = json.loads(request.body)
    [account] = [a for a in json.loads(ENV["S8_STRINGEE_ACCOUNTS"]) if a["account_sid"] == event["account_sid"]]  # fmt: skip
    [token] = parse_qs(urlsplit(request.path).query)["token"]
    return hmac.compare_digest(account["url_token"], token)


VALID = {"meta": meta_valid, "zalo": zalo_valid, "twilio": twilio_valid, "stringee": stringee_valid}


def requests_of(traffic: NativeTraffic, *, forged: bool) -> list[NativeRequest]:
    return [
        traffic.zalo(forged=forged),
        traffic.meta(forged=forged),
        traffic.twilio_sms(forged=forged),
        traffic.stringee_call(forged=forged),
    ]


def test_the_demo_signs_each_request_as_its_platform_does_and_forges_the_refused_ones() -> None:
    traffic = NativeTraffic(BASE_URL, seed=5)
    for _ in range(3):
        for request in requests_of(traffic, forged=False):
            assert VALID[request.platform](request), request.platform
        for request in requests_of(traffic, forged=True):
            assert not VALID[request.platform](request), request.platform
    zalo = json.loads(traffic.zalo().body)
    assert (zalo["event_name"], zalo["recipient"]["id"]) == ("user_send_text", json.loads(ENV["S8_ZALO_ACCOUNTS"])[0]["oa_id"])  # fmt: skip
    meta = json.loads(traffic.meta().body)
    assert meta["object"] == "page"
    assert meta["entry"][0]["id"] in json.loads(ENV["S8_META"])["page_tokens"]  # replies can go out
    call = json.loads(traffic.stringee_call().body)
    assert (call["call_status"], call["answerDuration"], call["from"]["type"]) == ("ended", 0, "external")  # fmt: skip


def test_the_demo_mail_is_raw_mime_with_its_vietnamese_subject_as_an_encoded_word() -> None:
    sender, raw = NativeTraffic(BASE_URL, seed=2).mail()
    assert raw.isascii()  # 7-bit clean: headers as RFC 2047 words, body quoted-printable
    assert b"Subject: " in raw
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n", 1)[0]
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert mail["From"].addresses[0].addr_spec == sender
    assert mail["To"].addresses[0].addr_spec == ENV["S8_MAIL_FROM"]
    assert any(c in str(mail["Subject"]) + mail.get_content() for c in "ăâđêôơưạảấầ")
    assert mail["Message-ID"]
    assert mail["Date"]


def test_message_ids_are_new_each_run_while_the_customers_come_back() -> None:
    def ids_and_senders(traffic: NativeTraffic) -> tuple[list[str], set[str]]:
        ids, senders = [], set()
        for _ in range(20):
            zalo = json.loads(traffic.zalo().body)
            meta = json.loads(traffic.meta().body)["entry"][0]["messaging"][0]
            sms = dict(parse_qsl(traffic.twilio_sms().body.decode()))
            call = json.loads(traffic.stringee_call().body)
            mail = email.message_from_bytes(traffic.mail()[1], policy=email.policy.default)
            ids += [zalo["message"]["msg_id"], meta["message"]["mid"], sms["MessageSid"], call["call_id"], mail["Message-ID"]]  # fmt: skip
            senders |= {zalo["sender"]["id"], meta["sender"]["id"], sms["From"]}
        return ids, senders

    first, senders = ids_and_senders(NativeTraffic(BASE_URL, seed=1))
    second, _ = ids_and_senders(NativeTraffic(BASE_URL, seed=1))  # another run, same choices
    assert len(set(first)) == len(first)
    assert not set(first) & set(second)
    assert len(senders) <= 15  # five customers on three platforms: conversations continue


def test_channel_env_is_what_s8_channels_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in channel_env(9000, 9126, 9127).items():
        monkeypatch.setenv(name, value)
    settings = ChannelsSettings()
    assert settings.meta is not None
    assert (settings.public_base_url, settings.smtp_receiver_port) == (
        "http://127.0.0.1:9007",
        9025,
    )
    assert (settings.smtp_relay_host, settings.smtp_relay_port, settings.smtp_relay_starttls) == ("127.0.0.1", 9126, False)  # fmt: skip
    assert settings.mail_from == "hotro@s8-demo.vn"
    assert [settings.meta_graph_url, settings.zalo_api_url, settings.twilio_api_url] == [
        "http://127.0.0.1:9127/meta", "http://127.0.0.1:9127/zalo", "http://127.0.0.1:9127/twilio"]  # fmt: skip
    assert [len(settings.zalo_accounts), len(settings.twilio_accounts), len(settings.stringee_accounts)] == [1, 1, 1]  # fmt: skip
    assert all(a.access_token is not None for a in settings.zalo_accounts)  # replies can go out


async def test_the_local_outlets_count_one_mail_and_one_send_per_platform() -> None:
    async with LocalOutlets(0, 0) as outlets:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "hotro@s8-demo.vn", "lan.nguyen@example.vn", "Về đơn hàng #A1234"  # fmt: skip
        mail.set_content("Chào chị Lan, đơn hàng của chị đã được hoàn tiền.")
        await aiosmtplib.send(mail, hostname="127.0.0.1", port=outlets.mail_port, start_tls=False)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{outlets.platform_port}") as http:
            meta = await http.post("/meta/109876543210987/messages", json={"recipient": {"id": "7001"}, "message": {"text": "Chào bạn"}}, headers={"Authorization": "Bearer t"})  # fmt: skip
            zalo = await http.post("/zalo/v3.0/oa/message/cs", json={"recipient": {"user_id": "5501"}, "message": {"text": "Chào bạn"}}, headers={"access_token": "t"})  # fmt: skip
            twilio = await http.post("/twilio/2010-04-01/Accounts/AC1/Messages.json", data={"To": "+84903123456", "From": "+842873008888", "Body": "Chào bạn"}, auth=("AC1", "t"))  # fmt: skip
            anonymous = await http.post("/twilio/2010-04-01/Accounts/AC1/Messages.json", data={"To": "+84903123456"})  # fmt: skip
        assert (meta.status_code, meta.json()["recipient_id"]) == (200, "7001")
        assert meta.json()["message_id"].startswith("m_")
        assert (zalo.status_code, zalo.json()["error"], zalo.json()["message"]) == (
            200,
            0,
            "Success",
        )
        assert zalo.json()["data"]["message_id"]
        assert (twilio.status_code, twilio.json()["sid"][:2], twilio.json()["body"]) == (201, "SM", "Chào bạn")  # fmt: skip
        assert anonymous.status_code == 401
        assert outlets.stats() == OutletStats(
            mails=1, subjects=("Về đơn hàng #A1234",), sent={"meta": 1, "zalo": 1, "twilio": 1}, refused=1
        )  # fmt: skip


# --- against s8-channels itself -----------------------------------------------------------


class ListSink(InboundSink):
    def __init__(self) -> None:  # no publisher, no store: a list, each platform id once
        self.published: list[ChannelMessage] = []

    async def put(self, message: ChannelMessage, now: datetime | None = None) -> bool:
        if any(m.dedup_key() == message.dedup_key() for m in self.published):
            return False
        self.published.append(message)
        return True


class MemoryRecipients(Recipients):
    def __init__(self) -> None:
        self.known: dict[tuple[str, str], Recipient] = {}

    async def remember(self, channel: str, address: str, recipient: Recipient, now: datetime | None = None) -> None:  # fmt: skip
        self.known[(channel, address)] = recipient


class NoCustomers(CustomerUpserts):
    def __init__(self) -> None:
        pass

    async def put(self, upsert: CustomerProfileUpsert) -> None:
        pass


def scraped(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """As stack.py's scrape() reads /metrics."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


async def test_s8_channels_takes_the_demo_customers_and_refuses_the_forged_requests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The SMTP receiver is still being written: a mail sink stands in for it here.
    async with LocalOutlets(0, 0) as receiver, LocalOutlets(0, 0) as outlets:
        ports = NativePorts(http=0, smtp=receiver.mail_port, mail_sink=outlets.mail_port, platform=outlets.platform_port)  # fmt: skip
        runtime, app = build(ChannelsSettings())  # accounts set below, once the port is known
        sink = ListSink()
        app.state.channels = dataclasses.replace(app.state.channels, sink=sink, recipients=MemoryRecipients(), customers=NoCustomers())  # fmt: skip
        async with serving(app, 0) as http_port:
            ports = dataclasses.replace(ports, http=http_port)
            for name, value in channel_env(http_port - 7, ports.mail_sink, ports.platform).items():
                monkeypatch.setenv(name, value)
            settings = ChannelsSettings()
            app.state.channels = dataclasses.replace(app.state.channels, settings=settings)
            app.state.settings = settings
            stats, stop = NativeStats(), asyncio.Event()
            task = asyncio.create_task(send_native(ports, stop, stats, rate=50.0))
            async with asyncio.timeout(30):
                # The demo's counters have no event to wait on: polled.
                while stats.forged < 4 or sum(stats.sent.values()) < 30:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            stop.set()
            await task
    assert (stats.errors, stats.last_error) == (0, "")
    assert all(stats.sent[p] > 0 for p in ("zalo", "meta", "twilio", "stringee", "email"))
    assert stats.accepted == sum(stats.sent.values())
    assert stats.refused == stats.forged >= 4
    assert receiver.stats().mails == stats.sent["email"]
    kinds = {type(m).__name__ for m in sink.published}
    assert kinds == {"SocialMessage", "SmsMessage", "PhoneCall"}
    assert len(sink.published) == stats.accepted - stats.sent["email"]
    assert all(m.missed for m in sink.published if isinstance(m, PhoneCall))

    lines = channel_lines(
        scraped(generate_latest(runtime.registry).decode()), stats, outlets.stats()
    )
    assert len(lines) == 3
    assert lines[0].split()[:2] == ["channels", "webhooks"]
    assert f"facebook {stats.sent['meta']}" in lines[0]
    assert f"zalo {stats.sent['zalo']}" in lines[0]
    refused = lines[0].split("signatures refused", 1)[1].split()
    assert sum(int(n) for n in refused[1::2]) == stats.refused
    assert f"forged {stats.forged} → refused {stats.refused}   errors 0" in lines[2]


def test_the_live_view_says_when_s8_channels_does_not_answer() -> None:
    stats = NativeStats(accepted=3, forged=1, refused=1)
    stats.sent.update(zalo=2, email=1)
    lines = channel_lines({}, stats, OutletStats(mails=2, subjects=("Về đơn hàng #A1234",), sent={"meta": 1}))  # fmt: skip
    assert lines[0].split() == ["channels", "not", "answering"]
    assert "mail sink 2 “Về đơn hàng #A1234”" in lines[1]
    assert "meta 1" in lines[1]
    assert "email 1  zalo 2" in lines[2]
