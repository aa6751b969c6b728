"""E-mail delivery against a real SMTP server (aiosmtpd on a free local port): what arrives,
how the relay's refusals are classified, STARTTLS with login."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
from collections.abc import AsyncIterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr

from s8_channels.adapters.smtp_sender import SmtpSender
from s8_channels.domain.delivery import Delivery, PermanentError, TransientError
from s8_channels.settings import ChannelsSettings
from s8_shared.contracts import Channel, Language, OutboundMessagePayload
from s8_testing.tls import self_signed

T0 = dt.datetime(2030, 3, 4, 9, 0, tzinfo=dt.UTC)
TICKET = "T-0123456789abcdef"


class Inbox:
    """An SMTP handler: keeps what it accepts; `nobody@` is unknown (550), `busy@` is
    deferred (451)."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 No such user here"
        if address.startswith("busy@"):
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def mail(self, index: int = 0) -> EmailMessage:
        content = self.envelopes[index].original_content or b""
        parsed = message_from_bytes(content, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def running(controller: Controller) -> None:
    await asyncio.to_thread(controller.start)


@pytest.fixture
async def relay() -> AsyncIterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    await running(controller)
    try:
        yield inbox, port
    finally:
        await asyncio.to_thread(controller.stop)


def settings_for(port: int, **overrides: Any) -> ChannelsSettings:
    fields: dict[str, Any] = {
        "smtp_relay_host": "127.0.0.1",
        "smtp_relay_port": port,
        "smtp_relay_starttls": False,
        "mail_from": "support@s8.example",
        "mail_from_name": "Hỗ trợ s8",
        "delivery_timeout_seconds": 5.0,
    }
    return ChannelsSettings(**{**fields, **overrides})


def make_delivery(**overrides: Any) -> Delivery:
    fields: dict[str, Any] = {
        "outbound_id": "0f3a9c2e7b1d4e8fa5c6d7e8f9a0b1c2",
        "ticket_id": TICKET,
        "customer_id": "C-1",
        "channel": Channel.EMAIL,
        "to": "lan@example.vn",
        "language": Language.VI,
        "kind": "acknowledgement",
        "subject": "Đơn hàng chưa tới",
        "text": "Chúng tôi đã nhận yêu cầu của chị.",
        "reply_to_message_id": "<CAF=abc@mail.example.vn>",
    }
    return Delivery(OutboundMessagePayload(**{**fields, **overrides}))


async def test_the_relay_receives_the_mail_with_its_exact_headers_and_body(
    relay: tuple[Inbox, int],
) -> None:
    inbox, port = relay
    receipt = await SmtpSender(settings_for(port), now=lambda: T0).send(make_delivery())

    assert receipt.provider_message_id == "<0f3a9c2e7b1d4e8fa5c6d7e8f9a0b1c2@s8.example>"
    envelope = inbox.envelopes[0]
    assert envelope.mail_from == "support@s8.example"
    assert envelope.rcpt_tos == ["lan@example.vn"]
    mail = inbox.mail()
    assert mail["From"] == "Hỗ trợ s8 <support@s8.example>"
    assert mail["To"] == "lan@example.vn"
    assert mail["Subject"] == f"Đơn hàng chưa tới [#{TICKET}]"
    assert mail["Message-ID"] == receipt.provider_message_id
    assert mail["In-Reply-To"] == "<CAF=abc@mail.example.vn>"
    assert mail["References"] == "<CAF=abc@mail.example.vn>"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["Date"] == "Mon, 04 Mar 2030 09:00:00 +0000"
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content().strip() == "Chúng tôi đã nhận yêu cầu của chị."


async def test_a_retry_sends_the_same_message_id(relay: tuple[Inbox, int]) -> None:
    inbox, port = relay
    sender = SmtpSender(settings_for(port))
    await sender.send(make_delivery())
    await sender.send(make_delivery())
    assert inbox.mail(0)["Message-ID"] == inbox.mail(1)["Message-ID"]


async def test_an_agents_reply_is_not_marked_automatic(relay: tuple[Inbox, int]) -> None:
    inbox, port = relay
    await SmtpSender(settings_for(port)).send(make_delivery(kind="reply"))
    assert inbox.mail()["Auto-Submitted"] is None


async def test_an_unknown_mailbox_is_a_permanent_failure(relay: tuple[Inbox, int]) -> None:
    inbox, port = relay
    with pytest.raises(PermanentError, match="550"):
        await SmtpSender(settings_for(port)).send(make_delivery(to="nobody@example.vn"))
    assert inbox.envelopes == []


async def test_a_deferred_mailbox_is_a_transient_failure(relay: tuple[Inbox, int]) -> None:
    _, port = relay
    with pytest.raises(TransientError, match="451"):
        await SmtpSender(settings_for(port)).send(make_delivery(to="busy@example.vn"))


async def test_an_unreachable_relay_is_a_transient_failure() -> None:
    with pytest.raises(TransientError):
        await SmtpSender(settings_for(free_port())).send(make_delivery())


async def test_without_a_relay_or_with_a_bad_address_the_failure_is_permanent() -> None:
    with pytest.raises(PermanentError, match="no SMTP relay"):
        await SmtpSender(settings_for(25, smtp_relay_host=None)).send(make_delivery())
    with pytest.raises(PermanentError, match="not an e-mail address"):
        await SmtpSender(settings_for(25)).send(make_delivery(to="+84901234567"))


class Credentials:
    def __init__(self, username: str, password: str) -> None:
        self.expected = (username.encode(), password.encode())
        self.tried: list[tuple[bytes, bytes]] = []

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        self.tried.append((data.login, data.password))
        # handled=False: the server answers (235, or 535 on a refusal) itself.
        return AuthResult(success=(data.login, data.password) == self.expected, handled=False)


async def test_starttls_and_login_are_used_when_configured(tmp_path: Path) -> None:
    server_tls, client_tls = self_signed(tmp_path)
    inbox, port = Inbox(), free_port()
    credentials = Credentials("relay-user", "relay-pass")
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls,
        require_starttls=True,  # refuses MAIL before STARTTLS
        authenticator=credentials,
        auth_required=True,  # refuses MAIL before login
        auth_require_tls=True,
    )
    await running(controller)
    try:
        settings = settings_for(
            port,
            smtp_relay_starttls=True,
            smtp_relay_username="relay-user",
            smtp_relay_password=SecretStr("relay-pass"),
        )
        await SmtpSender(settings, tls_context=client_tls).send(make_delivery())
        assert credentials.tried == [(b"relay-user", b"relay-pass")]
        assert inbox.mail()["To"] == "lan@example.vn"

        wrong = settings.model_copy(update={"smtp_relay_password": SecretStr("nope")})
        with pytest.raises(PermanentError, match="535"):
            await SmtpSender(wrong, tls_context=client_tls).send(make_delivery())
    finally:
        await asyncio.to_thread(controller.stop)
