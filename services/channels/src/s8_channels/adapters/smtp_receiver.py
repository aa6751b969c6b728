"""SMTP in: the mail relay (Postfix, Exim, a provider's inbound route) delivers to s8 here.

An aiosmtpd server on the service's own event loop (its `Controller` runs a thread with a
loop of its own, which does not fit a service whose sink lives on this one). Each mail is
answered only once it is on the inbound topic:

- `250 OK`: published (or published before: a relay's retry);
- `550 5.6.0 <reason>`: a mail s8 cannot read; permanent, so the relay bounces it to its
  sender rather than retrying it forever;
- `451 4.3.0`: the broker or the store failed; the relay retries later;
- `550 5.1.1` at RCPT: a recipient outside `smtp_receiver_domains` (when set);
- `552` (aiosmtpd itself): larger than `max_mail_bytes`, also announced in EHLO's SIZE.

The optional IMAP poller (`imap.py`) starts and stops with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import weakref

from aiosmtpd.smtp import SMTP, Envelope, Session

from s8_channels.adapters.imap_poller import ImapMailbox, ImapPoller
from s8_channels.context import Channels
from s8_channels.domain.mime import UnreadableMail, parse_mail

log = logging.getLogger(__name__)
PLATFORM = "email"
MAX_RECIPIENTS = 100  # per mail; RFC 5321 asks a server to take at least 100
SESSION_TIMEOUT_SECONDS = 300.0  # per command, DATA and its publish included (RFC 5321: 5 min)
STOP_GRACE_SECONDS = 10.0  # for mails being published when the service stops
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


class MailHandler:
    """aiosmtpd's hooks: whom s8 takes mail for, and what becomes of a mail."""

    def __init__(self, channels: Channels) -> None:
        self.channels = channels
        self.domains = frozenset(
            d.strip().lower().rstrip(".") for d in channels.settings.smtp_receiver_domains
        )
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        if not self.accepts(address):
            self._count("refused")
            return "550 5.1.1 Recipient domain not served here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    def accepts(self, address: str) -> bool:
        if not self.domains:
            return True
        domain = address.rpartition("@")[2].strip().lower().rstrip(".")
        return domain in self.domains

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self._busy += 1
        self._idle.clear()
        try:
            return await self._take(envelope)
        finally:
            self._busy -= 1
            if not self._busy:
                self._idle.set()

    async def _take(self, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        settings = self.channels.settings
        sender = (envelope.mail_from or "").strip().strip("<>")  # "<>" is a bounce's
        try:  # in a thread: a large mail takes the parser a while, the loop goes on
            message = await asyncio.to_thread(
                parse_mail,
                raw,
                max_bytes=settings.max_mail_bytes,
                envelope_sender=sender,
            )
        except UnreadableMail as unreadable:
            self._count("invalid")
            log.warning("mail from <%s> refused: %s", sender, unreadable.reason)
            return f"550 5.6.0 {_reply_text(unreadable.reason)}"
        message = message.model_copy(
            update={
                "raw": {
                    "envelope_from": sender,
                    "envelope_to": list(envelope.rcpt_tos),
                }
            }
        )
        try:
            fresh = await self.channels.sink.put(message)
        except Exception:  # the broker or the store: the relay keeps the mail and retries
            self._count("unavailable")
            log.exception("mail %s not published", message.channel_message_id)
            return "451 4.3.0 Try again later"
        self._count("published" if fresh else "duplicate")
        return "250 OK"

    async def idle(self) -> None:
        """Returns when no mail is being taken."""
        await self._idle.wait()

    def _count(self, outcome: str) -> None:
        self.channels.metrics.received.labels(PLATFORM, outcome).inc()


def _reply_text(reason: str) -> str:
    """A reason fit for an SMTP reply: one line of printable ASCII."""
    return _UNPRINTABLE.sub("?", reason)[:200] or "unreadable mail"


class MailReceiver:
    """The SMTP server (when `smtp_receiver_port` is set) and the IMAP poller (when
    `imap_host` is)."""

    def __init__(self, channels: Channels) -> None:
        self.channels = channels
        self.handler = MailHandler(channels)
        self._server: asyncio.Server | None = None
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()
        self._poller: ImapPoller | None = None

    async def start(self) -> None:
        settings = self.channels.settings
        if settings.imap_host:
            self._poller = ImapPoller(self.channels, ImapMailbox(self.channels))
        if settings.smtp_receiver_port:
            loop = asyncio.get_running_loop()
            hostname = socket.gethostname()  # once: SMTP() looks the FQDN up otherwise

            def session() -> SMTP:
                smtp = SMTP(
                    self.handler,
                    data_size_limit=settings.max_mail_bytes,
                    enable_SMTPUTF8=True,
                    hostname=hostname,
                    ident="s8 channels",
                    timeout=SESSION_TIMEOUT_SECONDS,
                    loop=loop,
                )
                self._sessions.add(smtp)
                return smtp

            self._server = await loop.create_server(
                session, host=settings.smtp_receiver_host, port=settings.smtp_receiver_port
            )
            log.info(
                "SMTP receiver on %s:%d", settings.smtp_receiver_host, settings.smtp_receiver_port
            )
        if self._poller is not None:
            self._poller.start()

    async def stop(self) -> None:
        if self._poller is not None:
            await self._poller.stop()
            self._poller = None
        server, self._server = self._server, None
        if server is None:
            return
        server.close()  # no new connection
        with contextlib.suppress(TimeoutError):  # mails being published get their answer
            async with asyncio.timeout(STOP_GRACE_SECONDS):
                await self.handler.idle()
        for smtp in list(self._sessions):  # then idle clients are disconnected
            if smtp.transport is not None:
                smtp.transport.close()
        await server.wait_closed()
