"""The delivery loop with an in-memory store, scripted senders and a recording publisher:
record → claim → send → retry → delivered or failed (with its dead letter), once per
outbound id, across replicas, crashes and broker errors."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from s8_channels.adapters.recipients import Recipient
from s8_channels.domain.delivery import (
    META,
    SMTP,
    TWILIO,
    ZALO,
    Delivery,
    PermanentError,
    SentReceipt,
    TransientError,
)
from s8_channels.metrics import ChannelMetrics
from s8_channels.ports import Sender
from s8_channels.service.delivery import DeliveryConfig, DeliveryService
from s8_channels.service.delivery_loop import DeliveryWorker
from s8_channels.service.senders import Senders
from s8_shared.contracts import (
    Channel,
    Language,
    OutboundMessagePayload,
    OutboundMessageRequested,
    deterministic_id,
)
from s8_shared.contracts.deadletter import DeadLetterPayload, DeadLetterRecorded
from s8_shared.contracts.outbound import OutboundDelivered, OutboundFailed
from s8_testing.channels_fakes import InMemoryDeliveryStore
from s8_testing.fakes import RecordingPublisher

T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
OUTBOUND, DEADLETTER = "support.outbound.v1", "support.deadletter.v1"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class ScriptedSender:
    """Answers its scripted outcomes in turn, then successes; `gate` holds sends open."""

    def __init__(self, *outcomes: SentReceipt | Exception) -> None:
        self.outcomes = list(outcomes)
        self.deliveries: list[Delivery] = []
        self.gate: asyncio.Event | None = None
        self.running = 0
        self.most_running = 0

    async def send(self, delivery: Delivery) -> SentReceipt:
        self.deliveries.append(delivery)
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            if self.gate is not None:
                await self.gate.wait()
        finally:
            self.running -= 1
        outcome = (
            self.outcomes.pop(0) if self.outcomes else SentReceipt(f"id-{len(self.deliveries)}")
        )
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    @property
    def sent_ids(self) -> list[str]:
        return [d.request.outbound_id for d in self.deliveries]


class FakeRecipients:
    def __init__(self, known: dict[tuple[str, str], Recipient] | None = None) -> None:
        self.known = known or {}

    async def find(self, channel: str, address: str) -> Recipient | None:
        return self.known.get((channel, address))


class Harness:
    def __init__(
        self,
        *,
        store: InMemoryDeliveryStore | None = None,
        clock: Clock | None = None,
        senders: dict[str, ScriptedSender] | None = None,
        recipients: FakeRecipients | None = None,
        max_attempts: int = 5,
        guard_seconds: float = 5.0,
        concurrency: int = 8,
    ) -> None:
        self.store = store or InMemoryDeliveryStore()
        self.clock = clock or Clock()
        self.senders = senders or {p: ScriptedSender() for p in (SMTP, META, ZALO, TWILIO)}
        self.publisher = RecordingPublisher()
        self.registry = CollectorRegistry()
        self.config = DeliveryConfig(
            producer="s8-channels",
            source_topic=OUTBOUND,
            max_attempts=max_attempts,
            backoff_seconds=1.0,
            send_guard_seconds=guard_seconds,
            retention=timedelta(days=30),
        )
        by_provider: dict[str, Sender] = dict(self.senders)
        self.service = DeliveryService(
            self.store,
            Senders(by_provider, recipients or FakeRecipients()),
            self.publisher,
            ChannelMetrics(self.registry),
            self.config,
            now=self.clock,
        )
        self.worker = DeliveryWorker(self.service, concurrency)

    async def run(self) -> None:
        await self.worker.tick()
        await self.worker.drain()

    def outcomes(self) -> list[OutboundDelivered | OutboundFailed]:
        events = self.publisher.on(OUTBOUND)
        assert all(isinstance(e, OutboundDelivered | OutboundFailed) for e in events)
        return events  # type: ignore[return-value]

    def dead_letters(self) -> list[DeadLetterPayload]:
        letters = self.publisher.on(DEADLETTER)
        assert all(isinstance(e, DeadLetterRecorded) for e in letters)
        return [e.payload for e in letters]

    def count(self, provider: str, outcome: str) -> float:
        labels = {"provider": provider, "outcome": outcome}
        return self.registry.get_sample_value("s8_channels_deliveries_total", labels) or 0.0


def requested(
    outbound_id: str = "ob-1", *, event_id: str | None = None, **payload: Any
) -> OutboundMessageRequested:
    fields: dict[str, Any] = {
        "outbound_id": outbound_id,
        "ticket_id": "T-0123456789abcdef",
        "customer_id": "C-1",
        "channel": Channel.EMAIL,
        "to": "lan@example.vn",
        "language": Language.VI,
        "kind": "acknowledgement",
        "text": "Chúng tôi đã nhận yêu cầu.",
    }
    return OutboundMessageRequested(
        event_id=deterministic_id("test", event_id or outbound_id),
        occurred_at=T0 - timedelta(seconds=2),
        producer="s8-intake",
        payload=OutboundMessagePayload(**{**fields, **payload}),
    )


async def test_a_recorded_request_is_sent_and_reported_delivered() -> None:
    h = Harness(senders={SMTP: ScriptedSender(SentReceipt("<ob-1@s8.example>"))})
    assert await h.service.record(requested())
    await h.run()

    [delivery] = h.senders[SMTP].deliveries
    assert delivery.request.outbound_id == "ob-1"
    assert delivery.attempt == 1
    [event] = h.outcomes()
    assert isinstance(event, OutboundDelivered)
    assert event.payload.model_dump(exclude_none=True) == {
        "outbound_id": "ob-1",
        "ticket_id": "T-0123456789abcdef",
        "customer_id": "C-1",
        "channel": "email",
        "to": "lan@example.vn",
        "provider": "smtp",
        "attempts": 1,
        "provider_message_id": "<ob-1@s8.example>",
        "permanent": False,
    }
    assert event.partition_key() == b"C-1"
    assert h.store.docs["ob-1"]["state"] == "delivered"
    assert h.store.docs["ob-1"]["outbox"] == []  # published, then removed
    assert h.count(SMTP, "delivered") == 1
    waited = h.registry.get_sample_value("s8_channels_delivery_seconds_sum", {"provider": "smtp"})
    assert waited == 2.0  # from the request's event to the relay's acceptance


async def test_the_same_outbound_id_is_sent_once_however_often_it_is_requested() -> None:
    h = Harness()
    assert await h.service.record(requested(event_id="first"))
    assert not await h.service.record(requested(event_id="first"))  # a redelivery
    assert not await h.service.record(requested(event_id="second"))  # a repeat, new event id
    await h.run()
    assert not await h.service.record(requested(event_id="third"))  # after it was delivered
    await h.run()
    assert h.senders[SMTP].sent_ids == ["ob-1"]
    assert len(h.outcomes()) == 1


async def test_requests_for_other_delivery_systems_are_neither_recorded_nor_reported() -> None:
    h = Harness()
    for channel, to in [
        (Channel.LIVE_CHAT, "visitor-1"),
        (Channel.CHATBOT, "visitor-1"),
        (Channel.PHONE, "+84901234567"),
        (Channel.WEB_FORM, "+84901234567"),
    ]:
        assert not await h.service.record(requested(f"ob-{channel}", channel=channel, to=to))
    await h.run()
    assert h.store.docs == {}
    assert h.publisher.sent == []


async def test_a_transient_failure_is_retried_with_backoff_until_delivered() -> None:
    sender = ScriptedSender(TransientError("HTTP 503"), TransientError("timed out"))
    h = Harness(senders={SMTP: sender})
    await h.service.record(requested())

    await h.run()
    assert h.store.docs["ob-1"]["next_attempt_at"] == T0 + timedelta(seconds=1)
    await h.run()  # not due yet
    assert len(sender.deliveries) == 1
    h.clock.advance(1)
    await h.run()
    assert h.store.docs["ob-1"]["next_attempt_at"] == h.clock.now + timedelta(seconds=2)
    h.clock.advance(2)
    await h.run()

    assert [d.attempt for d in sender.deliveries] == [1, 2, 3]
    [event] = h.outcomes()
    assert isinstance(event, OutboundDelivered)
    assert event.payload.attempts == 3
    assert h.count(SMTP, "retried") == 2
    assert h.count(SMTP, "delivered") == 1


async def test_transient_failures_until_the_last_attempt_fail_with_a_dead_letter() -> None:
    sender = ScriptedSender(*(TransientError("HTTP 503") for _ in range(3)))
    h = Harness(senders={SMTP: sender}, max_attempts=3)
    request = requested()
    await h.service.record(request)
    for wait in (0, 1, 2):
        h.clock.advance(wait)
        await h.run()

    [event] = h.outcomes()
    assert isinstance(event, OutboundFailed)
    assert event.payload.reason == "gave up after 3 attempts: HTTP 503"
    assert not event.payload.permanent
    assert event.payload.attempts == 3
    [letter] = h.dead_letters()
    assert letter.error_type == "gave_up"
    assert letter.reason == "smtp: gave up after 3 attempts: HTTP 503"
    assert letter.source_topic == OUTBOUND
    assert letter.key == "C-1"
    assert letter.attempts == 3
    assert OutboundMessageRequested.model_validate_json(letter.original_bytes()) == request
    assert h.store.docs["ob-1"]["state"] == "failed"
    assert h.count(SMTP, "failed") == 1


async def test_a_permanent_failure_is_final_at_once_with_a_dead_letter() -> None:
    h = Harness(senders={SMTP: ScriptedSender(PermanentError("recipient refused: 550 no user"))})
    await h.service.record(requested())
    await h.run()
    h.clock.advance(3600)
    await h.run()

    assert len(h.senders[SMTP].deliveries) == 1
    [event] = h.outcomes()
    assert isinstance(event, OutboundFailed)
    assert event.payload.permanent
    assert event.payload.reason == "recipient refused: 550 no user"
    assert event.payload.provider == "smtp"
    [letter] = h.dead_letters()
    assert letter.error_type == "invalid"
    assert letter.reason == "smtp: recipient refused: 550 no user"
    assert letter.dead_letter_id == f"{OUTBOUND}/outbound/ob-1"


async def test_social_messages_go_to_the_sender_of_the_platform_the_customer_wrote_on() -> None:
    facebook, zalo = Recipient("facebook", "page-1"), Recipient("zalo", "oa-1")
    recipients = FakeRecipients({("social", "psid-1"): facebook, ("social", "zuid-1"): zalo})
    h = Harness(recipients=recipients)
    await h.service.record(requested("ob-fb", channel=Channel.SOCIAL, to="psid-1"))
    await h.service.record(requested("ob-zalo", channel=Channel.SOCIAL, to="zuid-1"))
    await h.run()
    assert [d.recipient for d in h.senders[META].deliveries] == [facebook]
    assert [d.recipient for d in h.senders[ZALO].deliveries] == [zalo]
    assert {e.payload.provider for e in h.outcomes()} == {"meta", "zalo"}


async def test_a_social_message_to_an_unknown_account_fails_permanently_unsent() -> None:
    h = Harness()
    await h.service.record(requested(channel=Channel.SOCIAL, to="psid-unknown"))
    await h.run()
    assert all(not s.deliveries for s in h.senders.values())
    [event] = h.outcomes()
    assert isinstance(event, OutboundFailed)
    assert event.payload.permanent
    assert event.payload.provider == "none"
    assert "no account known" in (event.payload.reason or "")
    assert len(h.dead_letters()) == 1


async def test_an_sms_is_sent_with_the_line_the_customer_texted() -> None:
    line = Recipient("twilio", "+842873001234")
    h = Harness(recipients=FakeRecipients({("sms", "+84901234567"): line}))
    await h.service.record(requested(channel=Channel.SMS, to="+84901234567"))
    await h.run()
    assert [d.recipient for d in h.senders[TWILIO].deliveries] == [line]


async def test_a_slow_platform_holds_only_its_own_sends_and_at_most_the_concurrency() -> None:
    slow = ScriptedSender()
    slow.gate = asyncio.Event()
    recipients = FakeRecipients(
        {("social", f"psid-{i}"): Recipient("facebook", "p") for i in range(4)}
    )
    h = Harness(senders={META: slow, SMTP: ScriptedSender()}, recipients=recipients, concurrency=3)
    for i in range(4):
        await h.service.record(requested(f"ob-meta-{i}", channel=Channel.SOCIAL, to=f"psid-{i}"))
    h.clock.advance(1)  # the e-mail is recorded later, so claimed last
    await h.service.record(requested("ob-mail"))
    h.clock.advance(1)

    tick = asyncio.create_task(h.worker.tick())
    for _ in range(50):
        await asyncio.sleep(0)
    assert slow.running == 3  # the fourth waits for a free slot
    assert h.senders[SMTP].deliveries == []
    slow.gate.set()
    await tick
    await h.worker.drain()

    assert slow.most_running == 3
    assert h.senders[SMTP].sent_ids == ["ob-mail"]
    assert len(h.outcomes()) == 5


async def test_two_replicas_on_one_store_send_each_delivery_once() -> None:
    store, clock = InMemoryDeliveryStore(), Clock()
    sender = ScriptedSender()
    replicas = [Harness(store=store, clock=clock, senders={SMTP: sender}) for _ in range(2)]
    for i in range(30):
        await replicas[i % 2].service.record(requested(f"ob-{i}"))
    await asyncio.gather(*(r.run() for r in replicas))
    assert sorted(sender.sent_ids) == sorted(f"ob-{i}" for i in range(30))
    assert sum(len(r.outcomes()) for r in replicas) == 30


async def test_a_delivery_left_by_a_dead_replica_is_sent_after_its_lease() -> None:
    h = Harness()
    await h.service.record(requested())
    assert await h.service.claim() is not None  # a replica claims it, then dies mid-send
    await h.run()
    assert h.senders[SMTP].deliveries == []
    h.clock.advance(h.config.lease.total_seconds())
    await h.run()
    [delivery] = h.senders[SMTP].deliveries
    assert delivery.attempt == 2
    [event] = h.outcomes()
    assert event.payload.attempts == 2


async def test_a_replica_whose_lease_ran_out_cannot_overwrite_the_outcome() -> None:
    h = Harness()
    await h.service.record(requested())
    stale = await h.service.claim()
    assert stale is not None
    h.clock.advance(h.config.lease.total_seconds())
    await h.run()  # another claim delivers it
    await h.service.attempt(stale)  # the first replica wakes up and finishes its send
    assert len(h.outcomes()) == 1
    assert h.store.docs["ob-1"]["attempts"] == 2


async def test_a_delivery_that_kept_crashing_its_sender_is_given_up_unsent() -> None:
    h = Harness(max_attempts=2)
    await h.service.record(requested())
    for _ in range(2):  # both attempts end without an outcome
        assert await h.service.claim() is not None
        h.clock.advance(h.config.lease.total_seconds())
    await h.run()
    assert h.senders[SMTP].deliveries == []
    [event] = h.outcomes()
    assert isinstance(event, OutboundFailed)
    assert "without an outcome" in (event.payload.reason or "")
    assert event.payload.attempts == 3


async def test_a_send_that_never_answers_is_cut_off_and_retried() -> None:
    hanging = ScriptedSender()
    hanging.gate = asyncio.Event()  # never set
    h = Harness(senders={SMTP: hanging}, guard_seconds=0.05)
    await h.service.record(requested())
    await h.run()
    doc = h.store.docs["ob-1"]
    assert doc["state"] == "pending"
    assert doc["last_error"] == "no answer within 0.05 s"
    assert h.count(SMTP, "retried") == 1


async def test_an_error_the_sender_does_not_classify_is_retried() -> None:
    h = Harness(senders={SMTP: ScriptedSender(RuntimeError("bug"))})
    await h.service.record(requested())
    await h.run()
    assert h.store.docs["ob-1"]["last_error"] == "unexpected RuntimeError: bug"
    h.clock.advance(1)
    await h.run()
    assert isinstance(h.outcomes()[0], OutboundDelivered)


async def test_events_a_broker_error_left_in_the_outbox_are_published_by_the_sweep() -> None:
    h = Harness()
    await h.service.record(requested())
    h.publisher.fail_next = ConnectionError("broker down")
    await h.run()
    assert h.publisher.sent == []
    assert h.store.docs["ob-1"]["state"] == "delivered"
    assert h.store.docs["ob-1"]["has_outbox"]

    assert await h.service.sweep_outboxes() == 1
    assert await h.service.sweep_outboxes() == 0
    [event] = h.outcomes()
    assert event.event_id == deterministic_id("outbound.delivered", "ob-1")
    assert not h.store.docs["ob-1"]["has_outbox"]


async def test_a_failure_and_its_dead_letter_survive_a_broker_error_together() -> None:
    h = Harness(senders={SMTP: ScriptedSender(PermanentError("550"))})
    await h.service.record(requested())
    h.publisher.fail_next = ConnectionError("broker down")
    await h.run()
    assert await h.service.sweep_outboxes() == 2
    assert len(h.outcomes()) == 1
    assert len(h.dead_letters()) == 1


async def test_finished_deliveries_are_forgotten_after_the_retention() -> None:
    h = Harness()
    await h.service.record(requested("ob-old"))
    await h.run()
    h.clock.advance(10 * 86_400)
    await h.service.record(requested("ob-new"))
    await h.run()
    h.clock.advance(25 * 86_400)
    assert await h.service.purge() == 1
    assert set(h.store.docs) == {"ob-new"}


async def test_claiming_when_the_store_fails_ends_the_tick_quietly() -> None:
    h = Harness()

    async def broken(*args: Any) -> None:
        raise ConnectionError("store down")

    h.store.claim_due = broken  # type: ignore[method-assign, assignment]
    assert await h.worker.tick() == 0


def test_a_worker_needs_at_least_one_slot() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        DeliveryWorker(Harness().service, 0)
