"""What `make bench` measures on one stack: when each new ticket reached each stage.

A stack is a fresh topic namespace and fresh databases with the five services started on
them (as `make run` starts them) and the demo roster online. A measurement publishes new
customer messages to support.inbound.v1, all at once (a burst) or at an offered rate, and
notes per ticket when it was published and when it was first seen as `ticket.created`
(intake), with a routing decision (`ticket.assigned` or `ticket.queued`, the router) and with
`sla.clock_started` (the SLA monitor); analytics' count is its created-tickets counter.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from procs import SERVICES, LocalInfra, Services, http_get, new_customer_message, register_agents
from prometheus_client.parser import text_string_to_metric_families
from pymongo import MongoClient

from s8_shared import topics
from s8_shared.kafka.provision import delete_namespace, provision_topics

STAGES = ("created", "decided", "clocked", "counted")
WATCHED = {  # event type -> stage
    "ticket.created": "created",
    "ticket.assigned": "decided",
    "ticket.queued": "decided",
    "sla.clock_started": "clocked",
}
Batch = list[tuple[str, bytes, bytes]]  # (ticket id, key, value)


@dataclass
class Stack:
    infra: LocalInfra
    ns: str
    services: Services

    def service_stats(self) -> dict[str, dict[str, float]]:
        """Per service, summed over its replicas: Mongo commands so far (all,
        `command.<name>` by name, `on.<name> <collection>`), CPU seconds so far, RSS in MB now."""
        out: dict[str, dict[str, float]] = {}
        for instance, port in self.services.ports.items():
            stats = out.setdefault(self.services.modules[instance], {})
            for family in text_string_to_metric_families(http_get(port, "/metrics").decode()):
                for s in family.samples:
                    if s.name == "s8_mongo_command_duration_seconds_count":
                        by_collection = f"on.{s.labels['command']} {s.labels['collection']}"
                        for key in ("commands", "command." + s.labels["command"], by_collection):
                            stats[key] = stats.get(key, 0.0) + s.value
            _add_process(stats, self.services.procs[instance].pid)
        for server in ("mongo", "kafka"):  # the store's and the broker's share of a ticket
            _add_process(out.setdefault(server, {"commands": 0.0}), int((self.infra.local / "run" / f"{server}.pid").read_text()))  # fmt: skip
        return out

    def topic_inbound(self) -> str:
        return topics.INBOUND.name(self.ns)

    def analytics_count(self) -> float:
        return sum(
            s.value
            for instance in self.services.instances("s8_analytics")
            for family in text_string_to_metric_families(
                http_get(self.services.ports[instance], "/metrics").decode()
            )
            for s in family.samples
            if s.name == "s8_kpi_tickets_created_total"
        )


def _add_process(stats: dict[str, float], pid: int) -> None:
    """Adds the process's CPU seconds so far and its RSS in MB now."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    stats["cpu_s"] = (
        stats.get("cpu_s", 0.0) + (int(fields[11]) + int(fields[12])) / 100
    )  # ticks of 1/100 s
    stats["rss_mb"] = stats.get("rss_mb", 0.0) + next(
        int(line.split()[1]) / 1024
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmRSS:")
    )


@asynccontextmanager
async def stack(infra: LocalInfra, phase: str, port_base: int, ready_within: float, replicas: int = 1) -> AsyncIterator[Stack]:  # fmt: skip
    ns = f"bench{uuid.uuid4().hex[:8]}{phase[0]}."
    await provision_topics(infra.bootstrap, namespace=ns)
    services = Services(infra, phase, ns, port_base, SERVICES, replicas=replicas)
    try:
        await asyncio.to_thread(services.wait_ready, ready_within)
        await register_agents(infra.bootstrap, ns, services.ports["s8_router"])
        running = Stack(infra, ns, services)
        await measure(running, batch(f"w{ns[5:13]}", 5), rate=None, within=120)  # consumers joined
        yield running
    finally:
        services.stop()
        await delete_namespace(infra.bootstrap, ns)
        client: MongoClient[dict[str, Any]] = MongoClient(infra.mongo_uri, serverSelectionTimeoutMS=10_000)  # fmt: skip
        for name in client.list_database_names():
            if name.startswith(ns.replace(".", "_")):
                client.drop_database(name)
        client.close()


def batch(run: str, n: int) -> Batch:
    return [new_customer_message(run, i) for i in range(n)]


@dataclass
class Measurement:
    n: int
    offered_per_s: float | None  # None: a burst
    started: float  # monotonic time of the first send
    published: dict[str, float] = field(default_factory=dict)
    seen: dict[str, dict[str, float]] = field(default_factory=lambda: {s: {} for s in STAGES})
    counted_at: float | None = None  # when analytics' counter had all of them
    ended: float = 0.0  # when the measurement stopped (all stages complete, or the time limit)

    def complete(self, stage: str) -> bool:
        if stage == "counted":
            return self.counted_at is not None
        return len(self.seen[stage]) >= self.n

    def per_second(self, stage: str) -> float | None:
        """Tickets per second through `stage`: N / (last one there - first send)."""
        if not self.complete(stage):
            return None
        last = self.counted_at if stage == "counted" else max(self.seen[stage].values())
        return self.n / max(1e-6, (last or self.ended) - self.started)

    def latencies(self, stage: str) -> tuple[list[float], int]:
        """Seconds from publish to `stage` per ticket, in publish order; tickets that never got
        there count as the time they had waited when the measurement stopped (censored)."""
        seen, out, missing = self.seen[stage], [], 0
        for ticket, sent in sorted(self.published.items(), key=lambda kv: kv[1]):
            if ticket in seen:
                out.append(seen[ticket] - sent)
            else:
                out.append(self.ended - sent)
                missing += 1
        return out, missing


async def measure(stack: Stack, messages: Batch, *, rate: float | None, within: float) -> Measurement:  # fmt: skip
    """Publishes `messages` (at once, or `rate` per second) and watches until every one has all
    stages, or `within` seconds after the last send."""
    bootstrap = stack.infra.bootstrap
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5)  # fmt: skip
    await asyncio.gather(consumer.start(), producer.start())
    try:
        parts = [TopicPartition(t.name(stack.ns), p) for t in (topics.TICKETS, topics.ASSIGNMENTS, topics.SLA) for p in range(t.partitions)]  # fmt: skip
        consumer.assign(parts)
        await consumer.seek_to_end(*parts)
        for tp in parts:
            await consumer.position(tp)  # fixes the start before anything is sent
        counted0 = await asyncio.to_thread(stack.analytics_count)
        m = Measurement(len(messages), rate, time.monotonic())
        expected = {ticket for ticket, _, _ in messages}
        sending = asyncio.create_task(_send(producer, stack.topic_inbound(), messages, rate, m))
        deadline: float | None = None
        while True:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                now = time.monotonic()
                for record in records:
                    event = json.loads(record.value or b"{}")
                    stage = WATCHED.get(event.get("type", ""))
                    ticket = event.get("payload", {}).get("ticket_id")
                    if stage and ticket in expected:
                        m.seen[stage].setdefault(ticket, now)
            if m.counted_at is None and len(m.seen["created"]) >= m.n and await asyncio.to_thread(stack.analytics_count) >= counted0 + m.n:  # fmt: skip
                m.counted_at = time.monotonic()
            if sending.done():
                await sending
                deadline = deadline or time.monotonic() + within
            if all(m.complete(s) for s in STAGES) or (deadline and time.monotonic() > deadline):
                break
        m.ended = time.monotonic()
        return m
    finally:
        await asyncio.gather(producer.stop(), consumer.stop())


async def _send(producer: AIOKafkaProducer, topic: str, messages: Batch, rate: float | None, m: Measurement) -> None:  # fmt: skip
    deliveries = []
    for i, (ticket, key, value) in enumerate(messages):
        if rate:
            delay = m.started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        m.published[ticket] = time.monotonic()
        deliveries.append(await producer.send(topic, value, key=key))
    await asyncio.gather(*deliveries)
