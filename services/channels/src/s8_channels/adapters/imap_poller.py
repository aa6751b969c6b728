"""Polling a mailbox over IMAP, for deployments whose mail is not relayed to s8.

Every `imap_poll_seconds`: log in, select the folder, read the UIDs of unseen mail and their
sizes, and for each (oldest first) fetch it without marking it, put it on the inbound topic,
then mark it `\\Seen`. A crash between the publish and the mark reads it again next time;
the sink and intake store it once by its Message-ID. An error ends this poll, is logged, and
the next poll tries again: the service never stops for a mailbox.

The protocol is behind a small port (`Mailbox`), so that the poll's logic is tested with a
fake; `ImapMailbox` is its aioimaplib adapter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import aioimaplib

from s8_channels.context import Channels
from s8_channels.domain.mime import UnreadableMail, parse_mail

log = logging.getLogger(__name__)
PLATFORM = "email"
MAX_PER_POLL = 100  # the rest waits for the next poll: one poll stays short
IMAP_TIMEOUT_SECONDS = 60.0  # a command, including fetching a mail of max_mail_bytes

_UIDS = re.compile(rb"^[0-9 ]+$")
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_LITERAL = re.compile(rb"\{(\d+)\}$")


@dataclass(frozen=True)
class Unseen:
    uid: str
    size: int  # RFC822.SIZE, as the server counts it


class MailboxSession(Protocol):
    async def unseen(self, limit: int) -> list[Unseen]: ...
    async def fetch(self, uid: str) -> bytes: ...
    async def mark_seen(self, uid: str) -> None: ...


class Mailbox(Protocol):
    def open(self) -> AbstractAsyncContextManager[MailboxSession]: ...


class ImapError(Exception):
    pass


class ImapPoller:
    """The poll loop, over any `Mailbox`."""

    def __init__(self, channels: Channels, mailbox: Mailbox) -> None:
        self.channels = channels
        self.mailbox = mailbox
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="imap poller")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except Exception:  # the mailbox or the network: the next poll tries again
                log.exception("IMAP poll failed")
            await asyncio.sleep(self.channels.settings.imap_poll_seconds)

    async def poll_once(self) -> None:
        async with self.mailbox.open() as box:
            for mail in await box.unseen(MAX_PER_POLL):
                if not await self._take(box, mail):
                    return  # the broker is unavailable: the rest waits for the next poll

    async def _take(self, box: MailboxSession, mail: Unseen) -> bool:
        """False when the inbound topic could not take the mail (left unseen)."""
        settings = self.channels.settings
        if mail.size > settings.max_mail_bytes:
            log.warning("IMAP mail %s left aside: %d bytes", mail.uid, mail.size)
            return await self._done(box, mail.uid, "too_large")
        raw = await box.fetch(mail.uid)
        try:
            message = await asyncio.to_thread(parse_mail, raw, max_bytes=settings.max_mail_bytes)
        except UnreadableMail as unreadable:
            log.warning("IMAP mail %s unreadable: %s", mail.uid, unreadable.reason)
            return await self._done(box, mail.uid, "invalid")
        message = message.model_copy(update={"raw": {"mailbox": settings.imap_folder}})
        try:
            fresh = await self.channels.sink.put(message)
        except Exception:
            log.exception("IMAP mail %s not published; kept unseen", mail.uid)
            self._count("unavailable")
            return False
        return await self._done(box, mail.uid, "published" if fresh else "duplicate")

    async def _done(self, box: MailboxSession, uid: str, outcome: str) -> bool:
        # Marked only now: a mail read but not published stays unseen, read again next poll.
        await box.mark_seen(uid)
        self._count(outcome)
        return True

    def _count(self, outcome: str) -> None:
        self.channels.metrics.received.labels(PLATFORM, outcome).inc()


class ImapMailbox:
    """The `Mailbox` port over aioimaplib: IMAP4 over TLS (`imap_port`, 993 by default)."""

    def __init__(
        self,
        channels: Channels,
        *,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = IMAP_TIMEOUT_SECONDS,
    ) -> None:
        settings = channels.settings
        if not (settings.imap_host and settings.imap_username and settings.imap_password):
            raise ValueError("S8_IMAP_HOST needs S8_IMAP_USERNAME and S8_IMAP_PASSWORD")
        self.host = settings.imap_host
        self.port = settings.imap_port
        self.username = settings.imap_username
        self.password = settings.imap_password.get_secret_value()
        self.folder = settings.imap_folder
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.timeout = timeout

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[MailboxSession]:
        client = aioimaplib.IMAP4_SSL(
            host=self.host, port=self.port, timeout=self.timeout, ssl_context=self.ssl_context
        )
        try:
            await client.wait_hello_from_server()
            _ok(await client.login(self.username, self.password), "LOGIN")
            _ok(await client.select(_quoted(self.folder)), "SELECT")
            yield _ImapSession(client)
        finally:
            await _close(client)


class _ImapSession:
    def __init__(self, client: Any) -> None:
        self.client = client

    async def unseen(self, limit: int) -> list[Unseen]:
        found = _ok(await self.client.uid_search("UNSEEN", charset=None), "UID SEARCH")
        uids = sorted({int(uid) for line in found if _UIDS.match(line) for uid in line.split()})[
            :limit
        ]
        if not uids:
            return []
        sizes = _ok(
            await self.client.uid("fetch", ",".join(map(str, uids)), "(UID RFC822.SIZE)"),
            "UID FETCH RFC822.SIZE",
        )
        by_uid: dict[int, int] = {}
        for line in sizes:
            uid, size = _UID.search(line), _SIZE.search(line)
            if uid and size:
                by_uid[int(uid.group(1))] = int(size.group(1))
        return [Unseen(str(uid), by_uid[uid]) for uid in uids if uid in by_uid]

    async def fetch(self, uid: str) -> bytes:
        # BODY.PEEK[] rather than RFC822: the same bytes, without marking the mail \Seen.
        lines = _ok(await self.client.uid("fetch", uid, "(BODY.PEEK[])"), "UID FETCH")
        for i, line in enumerate(lines[:-1]):
            if isinstance(line, bytes | bytearray) and _LITERAL.search(bytes(line)):
                return bytes(lines[i + 1])
        raise ImapError(f"UID FETCH {uid}: no message in the answer")

    async def mark_seen(self, uid: str) -> None:
        _ok(await self.client.uid("store", uid, "+FLAGS.SILENT", r"(\Seen)"), "UID STORE")


def _ok(response: Any, command: str) -> list[Any]:
    lines: list[Any] = list(response.lines)
    if response.result != "OK":
        said = lines[-1] if lines else b""
        if isinstance(said, bytes | bytearray):
            said = bytes(said).decode("ascii", "replace")
        raise ImapError(f"{command}: {response.result} {str(said)[:200]}")
    return lines


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def _close(client: Any) -> None:
    with contextlib.suppress(Exception):  # logging out of a broken connection may fail
        await asyncio.wait_for(client.logout(), 5)
    transport = getattr(client.protocol, "transport", None)
    if transport is not None:
        transport.close()
