"""The IMAP poller's logic over a fake mailbox: what is published, what is marked seen and
when, what a failure leaves for the next poll (the aioimaplib adapter:
test_mail_imap_adapter.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client import CollectorRegistry

from s8_channels.adapters.customer_upserts import CustomerUpserts
from s8_channels.adapters.imap_poller import ImapPoller, MailboxSession, Unseen
from s8_channels.adapters.inbound_sink import InboundSink
from s8_channels.adapters.recipients import Recipients
from s8_channels.context import Channels
from s8_channels.domain.mime import parse_mail
from s8_channels.metrics import ChannelMetrics
from s8_channels.settings import ChannelsSettings
from s8_shared.contracts import ChannelMessage

MAIL = Path(__file__).parent / "fixtures" / "mail"


def fixture(name: str) -> bytes:
    return (MAIL / f"{name}.eml").read_bytes()


class FakeSink(InboundSink):
    def __init__(self, log: list[str]) -> None:  # no publisher, no store
        self.log = log
        self.published: list[ChannelMessage] = []
        self.failing = False
        self.got_one = asyncio.Event()

    async def put(self, message: ChannelMessage, now: dt.datetime | None = None) -> bool:
        if self.failing:
            raise ConnectionError("broker unavailable")
        self.log.append(f"publish {message.channel_message_id}")
        if any(m.dedup_key() == message.dedup_key() for m in self.published):
            return False
        self.published.append(message)
        self.got_one.set()
        return True


class NoRecipients(Recipients):
    def __init__(self) -> None:
        pass


class NoCustomers(CustomerUpserts):
    def __init__(self) -> None:
        pass


@dataclass
class FakeMailbox:
    """The `Mailbox` port in memory: uid → raw mail, the seen flags, and a log of calls."""

    mails: dict[str, bytes]
    sizes: dict[str, int] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    log: list[str] = field(default_factory=list)
    unreachable: int = 0  # this many next opens fail

    @asynccontextmanager
    async def open(self) -> AsyncIterator[MailboxSession]:
        if self.unreachable:
            self.unreachable -= 1
            raise ConnectionRefusedError("imap.example.com:993")
        yield self

    async def unseen(self, limit: int) -> list[Unseen]:
        uids = sorted((u for u in self.mails if u not in self.seen), key=int)[:limit]
        return [Unseen(u, self.sizes.get(u, len(self.mails[u]))) for u in uids]

    async def fetch(self, uid: str) -> bytes:
        self.log.append(f"fetch {uid}")
        return self.mails[uid]

    async def mark_seen(self, uid: str) -> None:
        self.log.append(f"seen {uid}")
        self.seen.add(uid)


@dataclass
class Rig:
    """What a poller is given (`channels`), and what it did: published, counted."""

    channels: Channels
    sink: FakeSink
    registry: CollectorRegistry

    def outcome(self, name: str) -> float:
        labels = {"platform": "email", "outcome": name}
        return self.registry.get_sample_value("s8_channels_received_total", labels) or 0.0


def make_rig(log: list[str], **settings: object) -> Rig:
    sink, registry = FakeSink(log), CollectorRegistry()
    values: dict[str, object] = {"smtp_receiver_port": 0, "max_mail_bytes": 65_536}
    channels = Channels(
        settings=ChannelsSettings.model_validate(values | settings),
        sink=sink,
        metrics=ChannelMetrics(registry),
        recipients=NoRecipients(),
        customers=NoCustomers(),
    )
    return Rig(channels, sink, registry)


async def test_unseen_mail_is_published_oldest_first_then_marked_seen() -> None:
    box = FakeMailbox({"12": fixture("reply"), "3": fixture("plain")})
    rig = make_rig(box.log)
    await ImapPoller(rig.channels, box).poll_once()
    assert box.log == [
        "fetch 3",
        "publish <CAF3k9x2Yq7b@mail.example.vn>",
        "seen 3",
        "fetch 12",
        "publish <CAF3k9x2Yq7c-reply@mail.example.vn>",
        "seen 12",
    ]
    assert [m.raw for m in rig.sink.published] == [{"mailbox": "INBOX"}] * 2
    assert rig.outcome("published") == 2


async def test_a_broker_failure_leaves_the_mail_unseen_for_the_next_poll() -> None:
    box = FakeMailbox({"1": fixture("plain"), "2": fixture("reply")})
    rig = make_rig(box.log)
    poller = ImapPoller(rig.channels, box)
    rig.sink.failing = True
    await poller.poll_once()
    assert box.seen == set()
    assert box.log == ["fetch 1"]  # the poll stops: the next mail would fail the same way
    assert rig.outcome("unavailable") == 1
    rig.sink.failing = False
    await poller.poll_once()
    assert box.seen == {"1", "2"}
    assert len(rig.sink.published) == 2


async def test_a_mail_published_before_a_crash_is_marked_seen_as_a_duplicate() -> None:
    box = FakeMailbox({"1": fixture("plain")})
    rig = make_rig(box.log)
    # What a poll had published before it crashed, without marking the mail seen.
    await rig.sink.put(parse_mail(fixture("plain"), max_bytes=65_536))
    await ImapPoller(rig.channels, box).poll_once()
    assert box.seen == {"1"}
    assert len(rig.sink.published) == 1
    assert rig.outcome("duplicate") == 1


async def test_too_large_and_unreadable_mail_are_set_aside_without_publishing() -> None:
    box = FakeMailbox(
        {"1": fixture("plain"), "2": b"Subject: no sender\r\n\r\nhi"},
        sizes={"1": 70_000},
    )
    rig = make_rig(box.log)
    await ImapPoller(rig.channels, box).poll_once()
    assert box.log == ["seen 1", "fetch 2", "seen 2"]  # the large one is never fetched
    assert rig.sink.published == []
    assert (rig.outcome("too_large"), rig.outcome("invalid")) == (1, 1)


async def test_the_poll_loop_survives_an_unreachable_mailbox() -> None:
    box = FakeMailbox({"1": fixture("plain")}, unreachable=2)
    rig = make_rig(box.log, imap_poll_seconds=0.01)
    poller = ImapPoller(rig.channels, box)
    poller.start()
    try:
        await asyncio.wait_for(rig.sink.got_one.wait(), 5)
    finally:
        await poller.stop()
    assert box.unreachable == 0
    assert box.seen == {"1"}
