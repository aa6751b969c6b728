"""The scale-out run's load and what it reads back (`tests/test_scale_out.py`): new customers,
follow-ups and two-channel customers at a steady rate, the decisions, clocks and tickets on
the topics, and the agents solving tickets as a desk would."""

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from procs import (
    http_get,
    new_customer_message,
)
from prometheus_client.parser import text_string_to_metric_families

from s8_intake.domain.ticket import ticket_id_for
from s8_shared import topics

NEW = 240  # new customers, e-mail and live chat alternating: a ticket each
RATE = 12.0  # messages per second
PORT_BASE = 30400  # replica r of a service on base + 10r + 1..5 (below the ephemeral range)
SOLVES = 60  # tickets their agents solve meanwhile: each frees a slot the queue competes for
RELEASES = ("ticket.unassigned", "ticket.reassigned", "ticket.escalated")
# Both router replicas drain the queue and reconcile loads often, racing each other and the
# drain a solved ticket triggers for every freed slot.
ROUTER_JOBS = {"S8_DRAIN_EVERY_SECONDS": "1", "S8_RECONCILE_EVERY_SECONDS": "2"}
# SLA targets no ticket of this run gets near: a warning would escalate the ticket, moving it
# between agents, and the capacity check counts only solved tickets as freeing a slot.
PATIENT_SLA = """
version: 1
policies:
  - policy_id: patient
    targets:
      first_response: {seconds: 86400, calendar: "24x7"}
      resolution: {seconds: 86400, calendar: "24x7", pause_on: [pending, on_hold]}
"""


def email_reply(run: str, i: int) -> tuple[str, bytes]:
    """(dedup key, value) of new customer i's second message, in their first one's conversation."""
    if i % 2 == 0:
        parent = f"<{run}.{i}@mail.example.vn>"
        msg: dict[str, Any] = {"channel": "email", "channel_message_id": f"<{run}.{i}.re@mail.example.vn>"}  # fmt: skip
        msg.update({"from": {"address": f"khach.{run}.{i}@example.vn"}, "to": [{"address": "support@s8.example.vn"}]})  # fmt: skip
        msg.update(subject="Re: đơn hàng", in_reply_to=parent, references=[parent])
    else:
        msg = {"channel": "live_chat", "channel_message_id": f"chat-{run}-{i}-2", "session_id": f"S-{run}-{i}", "visitor_id": f"visitor-{run}-{i}"}  # fmt: skip
    msg.update(text=f"Tôi vẫn đang chờ, đơn B{10000 + i} chưa được xử lý.")
    return f"{msg['channel']}:{msg['channel_message_id']}", json.dumps(msg, ensure_ascii=False).encode()  # fmt: skip


def two_channels(run: str, j: int) -> list[tuple[str, bytes, bytes]]:
    """(dedup key, kafka key, value) of customer j texting from a phone and, on Zalo, sharing
    that phone through Zalo's consent form: two conversations (two tickets) on different
    partitions, one customer (a phone Zalo vouches for is the same person's)."""
    phone = f"0903{int(run, 16) % 1000:03d}{j:03d}"
    text = f"Tôi đã nhắn tin và gửi Zalo về đơn C{j}, vẫn chưa nhận được hàng."
    sms = {"channel": "sms", "channel_message_id": f"sms-{run}-m{j}", "from_number": phone, "text": text}  # fmt: skip
    zalo: dict[str, Any] = {"channel": "social", "channel_message_id": f"zalo-{run}-m{j}", "platform": "zalo"}  # fmt: skip
    zalo.update(page_id="oa-1", sender_id=f"z{run}{j}", thread_id=f"z{run}{j}", shared_phone=phone, text=text)  # fmt: skip
    out = []
    for msg in (sms, zalo):
        dedup = f"{msg['channel']}:{msg['channel_message_id']}"
        out.append((dedup, dedup.encode(), json.dumps(msg, ensure_ascii=False).encode()))
    return out


class Load:
    """What is sent and what it must produce: tickets, follow-ups joining them, and the
    pairs of tickets of one customer."""

    def __init__(self) -> None:
        self.run = uuid.uuid4().hex[:8]
        self.sends: list[tuple[bytes, bytes]] = []  # (key, value), in order
        self.tickets: set[str] = set()
        self.follow_ups: dict[str, str] = {}  # follow-up's dedup key -> its conversation's ticket
        self.pairs: list[tuple[str, str]] = []  # one customer's two tickets
        keys: dict[int, bytes] = {}
        for i in range(NEW):
            ticket_id, key, value = new_customer_message(self.run, i)
            self.tickets.add(ticket_id)
            self.sends.append((key, value))
            keys[i] = key
            if i % 8 == 7:  # a reply to the message sent 7 before: same key, so same partition
                dedup, value = email_reply(self.run, i - 7)
                self.follow_ups[dedup] = ticket_id_for(keys[i - 7].decode())
                self.sends.append((keys[i - 7], value))
            if i % 16 == 3:
                pair = two_channels(self.run, i // 16)
                for _, key, value in pair:
                    self.sends.append((key, value))
                self.tickets.update(ticket_id_for(dedup) for dedup, _, _ in pair)
                self.pairs.append((ticket_id_for(pair[0][0]), ticket_id_for(pair[1][0])))

    async def send(self, bootstrap: str, ns: str, sends: list[tuple[bytes, bytes]]) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5)  # fmt: skip
        await producer.start()
        try:
            start = time.monotonic()
            for n, (key, value) in enumerate(sends):
                await producer.send(topics.INBOUND.name(ns), value, key=key)
                await asyncio.sleep(max(0.0, start + (n + 1) / RATE - time.monotonic()))
            await producer.flush()
        finally:
            await producer.stop()


class Events:
    """Every event on the run's ticket, assignment and SLA topics, read as they come (each
    partition in order)."""

    SPECS = (topics.TICKETS, topics.ASSIGNMENTS, topics.SLA)

    def __init__(self, bootstrap: str, ns: str) -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self.parts = [TopicPartition(s.name(ns), p) for s in self.SPECS for p in range(s.partitions)]  # fmt: skip
        self.names = {s.name(ns): s.short_name for s in self.SPECS}
        self.by_topic: dict[str, list[dict[str, Any]]] = {s.short_name: [] for s in self.SPECS}
        self.fetched = asyncio.Event()  # set after each fetch
        self.reader: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.reader = asyncio.create_task(self._read())

    async def stop(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            await asyncio.gather(self.reader, return_exceptions=True)
        await self.consumer.stop()

    def check(self) -> None:
        """Raises what stopped the reader, if anything did."""
        if self.reader is not None and self.reader.done():
            self.reader.result()

    async def _read(self) -> None:
        await self.consumer.start()
        self.consumer.assign(self.parts)
        await self.consumer.seek_to_beginning(*self.parts)
        while True:
            for tp, records in (await self.consumer.getmany(timeout_ms=300)).items():
                self.by_topic[self.names[tp.topic]].extend(json.loads(r.value or b"{}") for r in records)  # fmt: skip
            self.fetched.set()

    async def read_to_end(self) -> None:
        """Until everything on the topics now has been read."""
        end = await self.consumer.end_offsets(self.parts)
        while any([await self.consumer.position(tp) < end[tp] for tp in self.parts]):
            self.check()
            self.fetched.clear()
            await self.fetched.wait()

    def of(self, topic: str, *types: str) -> Iterator[dict[str, Any]]:
        return (e for e in self.by_topic[topic] if e.get("type") in types)


class Desk:
    """The agents at work: each solves tickets assigned to them as soon as they see them
    (not those a customer's later message joins: that would reopen them)."""

    def __init__(self, bootstrap: str, ns: str, events: Events, keep: set[str]) -> None:
        self.bootstrap, self.ns, self.events, self.keep = bootstrap, ns, events, keep
        self.solved: set[str] = set()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._work())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    def check(self) -> None:
        if self.task is not None and self.task.done():
            self.task.result()

    async def _work(self) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=True)
        await producer.start()
        try:
            seen = 0
            while len(self.solved) < SOLVES:
                assigned = list(self.events.of("assignments", "ticket.assigned"))
                for e in assigned[seen:]:
                    ticket_id, agent = e["payload"]["ticket_id"], e["payload"]["agent_id"]
                    if ticket_id in self.keep or ticket_id in self.solved or len(self.solved) == SOLVES:  # fmt: skip
                        continue
                    action = {"kind": "set_status", "action_id": f"solve-{ticket_id}", "ticket_id": ticket_id, "actor_id": agent, "status": "solved"}  # fmt: skip
                    await producer.send_and_wait(topics.ACTIONS.name(self.ns), json.dumps(action).encode(), key=ticket_id.encode())  # fmt: skip
                    self.solved.add(ticket_id)
                seen = len(assigned)
                await asyncio.sleep(0.2)
        finally:
            await producer.stop()


def solved(events: Events) -> set[str]:
    return {e["payload"]["ticket_id"] for e in events.of("tickets", "ticket.status_changed") if e["payload"]["to_status"] == "solved"}  # fmt: skip


def metrics(port: int) -> list[tuple[str, dict[str, str], float]]:
    text = http_get(port, "/metrics").decode()
    return [(s.name, s.labels, s.value) for f in text_string_to_metric_families(text) for s in f.samples]  # fmt: skip


def total(port: int, name: str, **labels: str) -> float:
    return sum(v for n, ls, v in metrics(port) if n == name and labels.items() <= ls.items())
