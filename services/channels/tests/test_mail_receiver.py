"""The SMTP receiver in real SMTP conversations (the standard library's smtplib, as a relay
would talk): a mail is answered 250 only once it is on the inbound topic, and every refusal
has the code that makes the relay bounce (5xx) or retry (4xx)."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pytest
from prometheus_client import CollectorRegistry

from s8_channels.adapters.customer_upserts import CustomerUpserts
from s8_channels.adapters.inbound_sink import InboundSink
from s8_channels.adapters.recipients import Recipients
from s8_channels.adapters.smtp_receiver import MailReceiver
from s8_channels.context import Channels
from s8_channels.metrics import ChannelMetrics
from s8_channels.settings import ChannelsSettings
from s8_intake.domain.email_message import email_skip_reason
from s8_shared.contracts import ChannelMessage
from s8_shared.contracts.inbound import EmailMessage
from s8_testing.harness import free_port

MAIL = Path(__file__).parent / "fixtures" / "mail"
SUPPORT = "support@support.example.com"
T = TypeVar("T")


class FakeSink(InboundSink):
    """The inbound topic as a list, each message id once; `failing` plays a broker outage."""

    def __init__(self) -> None:  # no publisher, no store
        self.published: list[ChannelMessage] = []
        self.failing = False
        self.started = asyncio.Event()
        self.release: asyncio.Event | None = None  # set: put() waits for it

    async def put(self, message: ChannelMessage, now: datetime | None = None) -> bool:
        self.started.set()
        if self.release is not None:
            await self.release.wait()
        if self.failing:
            raise ConnectionError("broker unavailable")
        if any(m.dedup_key() == message.dedup_key() for m in self.published):
            return False
        self.published.append(message)
        return True


class NoRecipients(Recipients):
    def __init__(self) -> None:  # mail in remembers no platform account
        pass


class NoCustomers(CustomerUpserts):
    def __init__(self) -> None:
        pass


@dataclass
class Smtp:
    """A running receiver, its fake sink, and a way to talk to it."""

    port: int
    sink: FakeSink
    metrics: ChannelMetrics
    registry: CollectorRegistry
    receiver: MailReceiver

    def outcomes(self, outcome: str) -> float:
        labels = {"platform": "email", "outcome": outcome}
        return self.registry.get_sample_value("s8_channels_received_total", labels) or 0.0

    async def talk(self, conversation: Callable[[smtplib.SMTP], T]) -> T:
        def run() -> T:
            with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as client:
                return conversation(client)

        return await asyncio.to_thread(run)

    async def send(self, raw: bytes, sender: str = "lan@example.vn", to: str = SUPPORT) -> None:
        await self.talk(lambda client: client.sendmail(sender, [to], raw))


def start_settings(port: int, **overrides: object) -> ChannelsSettings:
    values: dict[str, object] = {
        "smtp_receiver_port": port,
        "smtp_receiver_domains": ["support.example.com"],
        "max_mail_bytes": 65_536,
    }
    return ChannelsSettings.model_validate(values | overrides)


def channels_for(settings: ChannelsSettings, sink: FakeSink) -> tuple[Channels, CollectorRegistry]:
    registry = CollectorRegistry()
    channels = Channels(
        settings=settings,
        sink=sink,
        metrics=ChannelMetrics(registry),
        recipients=NoRecipients(),
        customers=NoCustomers(),
    )
    return channels, registry


@pytest.fixture
async def smtp() -> AsyncIterator[Smtp]:
    port, sink = free_port(), FakeSink()
    channels, registry = channels_for(start_settings(port), sink)
    receiver = MailReceiver(channels)
    await receiver.start()
    try:
        yield Smtp(port, sink, channels.metrics, registry, receiver)
    finally:
        await receiver.stop()


def fixture(name: str) -> bytes:
    return (MAIL / f"{name}.eml").read_bytes()


async def test_a_mail_is_published_with_its_envelope_and_answered_250(smtp: Smtp) -> None:
    await smtp.send(fixture("attachment"), sender="bao.vo@example.vn")
    [message] = smtp.sink.published
    assert isinstance(message, EmailMessage)
    assert message.channel_message_id == "<A1B2C3D4.5E6F@example.vn>"
    assert message.from_.address == "bao.vo@example.vn"
    assert message.subject == "Warranty claim, receipt attached"
    assert [a.filename for a in message.attachments] == ["receipt-10540.pdf", "ảnh ấm đun.png"]
    assert message.headers["Return-Path"] == "<bao.vo@example.vn>"
    assert message.raw == {"envelope_from": "bao.vo@example.vn", "envelope_to": [SUPPORT]}
    assert smtp.outcomes("published") == 1


async def test_the_answer_waits_for_the_publish(smtp: Smtp) -> None:
    smtp.sink.release = asyncio.Event()
    sending = asyncio.create_task(smtp.send(fixture("plain")))
    await asyncio.wait_for(smtp.sink.started.wait(), 5)
    await asyncio.sleep(0.2)
    assert not sending.done()  # the relay has no answer while the broker has not the mail
    smtp.sink.release.set()
    await asyncio.wait_for(sending, 5)
    assert len(smtp.sink.published) == 1


async def test_a_relay_retry_of_the_same_mail_is_accepted_and_published_once(smtp: Smtp) -> None:
    await smtp.send(fixture("plain"))
    await smtp.send(fixture("plain"))
    assert len(smtp.sink.published) == 1
    assert (smtp.outcomes("published"), smtp.outcomes("duplicate")) == (1, 1)


async def test_a_recipient_outside_the_served_domains_is_refused_at_rcpt(smtp: Smtp) -> None:
    def conversation(client: smtplib.SMTP) -> tuple[tuple[int, bytes], tuple[int, bytes]]:
        client.ehlo()
        client.mail("lan@example.vn")
        return client.rcpt("someone@elsewhere.example"), client.rcpt("SUPPORT@Support.Example.COM")

    refused, accepted = await smtp.talk(conversation)
    assert refused[0] == 550
    assert accepted[0] == 250
    assert smtp.outcomes("refused") == 1


async def test_an_unreadable_mail_is_refused_permanently_with_its_reason(smtp: Smtp) -> None:
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await smtp.send(b"To: support@support.example.com\r\nSubject: no sender\r\n\r\nHi\r\n")
    assert refused.value.smtp_code == 550
    assert refused.value.smtp_error == b"5.6.0 no readable From address"
    assert smtp.sink.published == []
    assert smtp.outcomes("invalid") == 1


async def test_a_broker_failure_is_answered_451_and_the_relay_retry_succeeds(smtp: Smtp) -> None:
    smtp.sink.failing = True
    with pytest.raises(smtplib.SMTPDataError) as deferred:
        await smtp.send(fixture("plain"))
    assert deferred.value.smtp_code == 451
    assert smtp.outcomes("unavailable") == 1
    smtp.sink.failing = False
    await smtp.send(fixture("plain"))
    assert len(smtp.sink.published) == 1


async def test_a_mail_over_the_size_limit_is_refused_552(smtp: Smtp) -> None:
    big = fixture("plain") + (b"x" * 78 + b"\r\n") * 1000

    def without_size(client: smtplib.SMTP) -> tuple[int, bytes]:
        client.ehlo()
        client.mail("lan@example.vn")  # no SIZE declared: refused once the data is in
        client.rcpt(SUPPORT)
        return client.data(big)

    assert (await smtp.talk(without_size))[0] == 552
    with pytest.raises(smtplib.SMTPSenderRefused) as declared:  # smtplib declares SIZE
        await smtp.send(big)
    assert declared.value.smtp_code == 552
    assert smtp.sink.published == []


async def test_a_bounce_carries_the_null_sender_that_intake_skips_it_by(smtp: Smtp) -> None:
    raw = fixture("bounce").replace(b"Return-Path: <>\r\n", b"")
    await smtp.send(raw, sender="")
    [message] = smtp.sink.published
    assert isinstance(message, EmailMessage)
    assert message.headers["Return-Path"] == "<>"
    assert email_skip_reason(message, frozenset({SUPPORT})) == "bounce: empty Return-Path"


async def test_stop_disconnects_an_idle_client_at_once(smtp: Smtp) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", smtp.port)
    assert (await reader.readline()).startswith(b"220 ")
    await asyncio.wait_for(smtp.receiver.stop(), 5)
    assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the server
    writer.close()


async def test_stop_lets_a_mail_being_published_get_its_answer(smtp: Smtp) -> None:
    smtp.sink.release = asyncio.Event()
    sending = asyncio.create_task(smtp.send(fixture("plain")))
    await asyncio.wait_for(smtp.sink.started.wait(), 5)
    stopping = asyncio.create_task(smtp.receiver.stop())
    await asyncio.sleep(0.2)
    assert not stopping.done()
    smtp.sink.release.set()
    await asyncio.wait_for(sending, 5)  # 250, not a dropped connection
    await asyncio.wait_for(stopping, 5)
    assert len(smtp.sink.published) == 1


async def test_port_zero_starts_no_server() -> None:
    channels, _ = channels_for(start_settings(0), FakeSink())
    receiver = MailReceiver(channels)
    await receiver.start()  # nothing to bind: no error, nothing to stop
    await receiver.stop()


async def test_an_imap_host_without_credentials_stops_the_start() -> None:
    settings = start_settings(0, imap_host="imap.example.com")
    receiver = MailReceiver(channels_for(settings, FakeSink())[0])
    with pytest.raises(ValueError, match="S8_IMAP_USERNAME"):
        await receiver.start()
