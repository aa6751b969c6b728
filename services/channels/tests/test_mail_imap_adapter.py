"""The aioimaplib adapter (`ImapMailbox`) against a small scripted IMAP server over TLS in
this process: the conversation is shaped on RFC 3501's examples, not taken from a real
server, so a real server's quirks are not covered here."""

from __future__ import annotations

import asyncio
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydantic import SecretStr

from s8_channels.adapters.imap_poller import ImapError, ImapMailbox, ImapPoller
from s8_channels.context import Channels
from s8_channels.settings import ChannelsSettings
from s8_testing.channels_fakes import ChannelsApp as Harness
from s8_testing.harness import free_port
from s8_testing.tls import self_signed

MAIL = Path(__file__).parent / "fixtures" / "mail"


def fixture(name: str) -> bytes:
    return (MAIL / f"{name}.eml").read_bytes()


@pytest.fixture
def settings() -> ChannelsSettings:
    return ChannelsSettings(
        smtp_receiver_port=0,
        imap_host="127.0.0.1",
        imap_port=free_port(),
        imap_username="support",
        imap_password=SecretStr("s3cret"),
        imap_folder='Support "in"',
    )


@dataclass
class ScriptedImap:
    """Just the IMAP4rev1 a poll uses, answering one client at a time; `seen` records the
    \\Seen flags set, `commands` what the client sent."""

    mails: dict[int, bytes]
    seen: set[int] = field(default_factory=set)
    commands: list[str] = field(default_factory=list)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK IMAP4rev1 scripted server ready\r\n")
        while line := await reader.readline():
            tag, _, command = line.decode().rstrip("\r\n").partition(" ")
            self.commands.append(command)
            for answer in self.answer(command):
                writer.write(answer)
            writer.write(f"{tag} OK done\r\n".encode())
            await writer.drain()
            if command == "LOGOUT":
                break
        writer.close()

    def answer(self, command: str) -> list[bytes]:
        verb = command.split(" ", 2)
        if verb[0] == "CAPABILITY":
            return [b"* CAPABILITY IMAP4rev1 UIDPLUS\r\n"]
        if verb[0] == "SELECT":
            return [f"* {len(self.mails)} EXISTS\r\n".encode()]
        if verb[0] == "LOGOUT":
            return [b"* BYE logging out\r\n"]
        if command == "UID SEARCH UNSEEN":
            unseen = " ".join(str(u) for u in sorted(self.mails) if u not in self.seen)
            return [f"* SEARCH {unseen}\r\n".encode()]
        if fetch := re.fullmatch(r"UID FETCH ([\d,]+) \(UID RFC822\.SIZE\)", command):
            uids = [int(u) for u in fetch.group(1).split(",")]
            return [
                f"* {i} FETCH (UID {u} RFC822.SIZE {len(self.mails[u])})\r\n".encode()
                for i, u in enumerate(uids, 1)
                if u in self.mails
            ]
        if fetch := re.fullmatch(r"UID FETCH (\d+) \(BODY\.PEEK\[\]\)", command):
            raw = self.mails[int(fetch.group(1))]
            head = f"* 1 FETCH (UID {fetch.group(1)} BODY[] {{{len(raw)}}}\r\n".encode()
            return [head + raw + b")\r\n"]
        if store := re.fullmatch(r"UID STORE (\d+) \+FLAGS\.SILENT \(\\Seen\)", command):
            self.seen.add(int(store.group(1)))
            return []
        return []  # LOGIN and anything else: OK


def poller(harness: Harness, client_tls: ssl.SSLContext) -> ImapPoller:
    channels: Channels = harness.app.state.channels
    return ImapPoller(channels, ImapMailbox(channels, ssl_context=client_tls, timeout=5))


async def test_the_aioimaplib_adapter_polls_a_mailbox_over_tls(
    harness: Harness, settings: ChannelsSettings, tmp_path: Path
) -> None:
    imap = ScriptedImap({4: fixture("plain"), 7: fixture("vietnamese_subject")})
    server_tls, client_tls = self_signed(tmp_path)
    server = await asyncio.start_server(imap.serve, "127.0.0.1", settings.imap_port, ssl=server_tls)
    try:
        await poller(harness, client_tls).poll_once()
        imap.mails, imap.seen = {9: fixture("reply")}, set()  # the next poll's mailbox
        await poller(harness, client_tls).poll_once()
    finally:
        server.close()
        await server.wait_closed()
    assert [m.channel_message_id for m in harness.sink.published] == [
        "<CAF3k9x2Yq7b@mail.example.vn>",
        "<3f9a1c2e-7d4b-4e1f-9a63-1c2d3e4f5a6b@example.vn>",
        "<CAF3k9x2Yq7c-reply@mail.example.vn>",
    ]
    assert imap.seen == {9}  # marked \Seen once published
    assert harness.received("email", "published") == 3
    assert 'LOGIN support "s3cret"' in imap.commands
    assert 'SELECT "Support \\"in\\""' in imap.commands
    assert "UID FETCH 4,7 (UID RFC822.SIZE)" in imap.commands
    assert "UID FETCH 4 (BODY.PEEK[])" in imap.commands  # PEEK: not marked seen by the read
    assert imap.commands[-1] == "LOGOUT"


@pytest.mark.parametrize("answer", [b"NO [AUTHENTICATIONFAILED] wrong", b"BAD what"])
async def test_a_refused_login_fails_the_poll_and_closes_the_connection(
    harness: Harness, settings: ChannelsSettings, tmp_path: Path, answer: bytes
) -> None:
    server_tls, client_tls = self_signed(tmp_path)
    closed = asyncio.Event()

    async def refusing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK ready\r\n")
        while line := await reader.readline():
            tag, _, command = line.decode().partition(" ")
            if command.startswith("CAPABILITY"):
                writer.write(f"* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n".encode())
            elif command.startswith("LOGIN"):
                writer.write(tag.encode() + b" " + answer + b"\r\n")
            else:
                writer.write(f"{tag} OK done\r\n".encode())
        closed.set()

    server = await asyncio.start_server(refusing, "127.0.0.1", settings.imap_port, ssl=server_tls)
    try:
        with pytest.raises(ImapError, match="LOGIN"):
            await poller(harness, client_tls).poll_once()
        await asyncio.wait_for(closed.wait(), 5)  # the client hung up
    finally:
        server.close()
        await server.wait_closed()
    assert harness.sink.published == []
