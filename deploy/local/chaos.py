"""make chaos: kill -9 of every part of a loaded stack, then count what every fault cost.

Its own Kafka and store (infra.sh, S8_LOCAL_DIR=.local/chaos, ports that do not clash with
`make run` or the benchmarks, and below Linux's ephemeral range 32768-60999, where an outgoing
connection could hold a port a killed service needs again) and the five services as processes. A steady load of new
customers (each message its own customer and ticket, e-mail and live chat) runs throughout;
each fault in turn kills one part with SIGKILL, leaves it down a moment and starts it again
(a service as a process, the broker and the store with infra.sh). Messages are attributed to
the fault during whose window they were offered. Then the load stops, every consumer group
catches up (lag 0), and per fault it prints: offered, tickets, lost (no ticket.created),
duplicated (a ticket created under two event ids), without a routing decision
(ticket.assigned or ticket.queued), without an SLA clock (sla.clock_started), and the
tickets analytics counted. Goal: 0 lost and 0 duplicated for every fault. JSON under
.local/chaos/.

    make chaos                                       # 30 messages/s, every fault
    python deploy/local/chaos.py --rate 10 --faults s8_intake,mongo --window 15
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from procs import REPO, SERVICES, LocalInfra, Services, new_customer_message, register_agents
from pymongo import MongoClient

from s8_shared import topics
from s8_shared.kafka.provision import provision_topics

LOCAL = REPO / ".local" / "chaos"
FAULTS = (*SERVICES, "kafka", "mongo")
COLUMNS = ("offered", "tickets", "lost", "duplicated", "undecided", "unclocked", "analytics")


class Load:
    """New customers at `rate` per second; every message is re-sent until the broker has it
    (a producer's delivery can fail while the broker is down: s8 deduplicates the resend)."""

    def __init__(self, bootstrap: str, ns: str, rate: float) -> None:
        self.bootstrap, self.ns, self.rate = bootstrap, ns, rate
        self.run_id = uuid.uuid4().hex[:8]
        self.window = "warm-up"
        self.offered: dict[str, str] = {}  # ticket id -> fault window
        self.stopping = asyncio.Event()
        self.pending: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=True, linger_ms=5)  # fmt: skip
        await producer.start()
        try:
            start, i = time.monotonic(), 0
            while not self.stopping.is_set():
                ticket_id, key, value = new_customer_message(self.run_id, i)
                self.offered[ticket_id] = self.window
                task = asyncio.create_task(self._deliver(producer, key, value))
                self.pending.add(task)
                task.add_done_callback(self.pending.discard)
                i += 1
                await asyncio.sleep(max(0.0, start + i / self.rate - time.monotonic()))
            while self.pending:
                await asyncio.gather(*list(self.pending))
        finally:
            await producer.stop()

    async def _deliver(self, producer: AIOKafkaProducer, key: bytes, value: bytes) -> None:
        while True:
            try:
                await producer.send_and_wait(topics.INBOUND.name(self.ns), value, key=key)
                return
            except Exception:  # the broker is down: send it again
                await asyncio.sleep(1)


async def lagging(bootstrap: str, ns: str) -> list[str]:
    """This run's consumer groups that have not committed every record of their topics."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin.start()
    await consumer.start()
    try:
        behind = []
        for group, *_ in await admin.list_consumer_groups():
            if not group.startswith(ns):
                continue
            committed = await admin.list_consumer_group_offsets(group)
            end = await consumer.end_offsets(list(committed)) if committed else {}
            if any(meta.offset < end[tp] for tp, meta in committed.items()):
                behind.append(group)
        return behind
    finally:
        await consumer.stop()
        await admin.close()


async def read_events(bootstrap: str, topic: str, partitions: int) -> list[dict[str, Any]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        end = await consumer.end_offsets(parts)
        out: list[dict[str, Any]] = []
        while any([await consumer.position(tp) < end[tp] for tp in parts]):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                out.extend(json.loads(r.value or b"{}") for r in records)
        return out
    finally:
        await consumer.stop()


async def inject(fault: str, infra: LocalInfra, services: Services, down: float) -> None:
    if fault in SERVICES:
        services.kill(fault)
        await asyncio.sleep(down)
        services.start(fault)
        await asyncio.to_thread(services.wait_ready, 180, (fault,))
    else:
        infra.kill(fault)
        await asyncio.sleep(down)
        await asyncio.to_thread(infra.run, "up")


async def count(load: Load, infra: LocalInfra, ns: str) -> dict[str, dict[str, int]]:
    created: dict[str, set[str]] = defaultdict(set)  # ticket id -> ticket.created event ids
    for e in await read_events(infra.bootstrap, topics.TICKETS.name(ns), topics.TICKETS.partitions):
        if e.get("type") == "ticket.created":
            created[e["payload"]["ticket_id"]].add(e["event_id"])
    decided, clocked = set(), set()
    for e in await read_events(infra.bootstrap, topics.ASSIGNMENTS.name(ns), topics.ASSIGNMENTS.partitions):  # fmt: skip
        if e.get("type") in ("ticket.assigned", "ticket.queued"):
            decided.add(e["payload"]["ticket_id"])
    for e in await read_events(infra.bootstrap, topics.SLA.name(ns), topics.SLA.partitions):
        if e.get("type") == "sla.clock_started":
            clocked.add(e["payload"]["ticket_id"])
    client: MongoClient[dict[str, Any]] = MongoClient(infra.mongo_uri, serverSelectionTimeoutMS=30_000)  # fmt: skip
    counted = {d["_id"] for d in client[ns.replace(".", "_") + "s8_analytics"]["tickets"].find({}, {"_id": 1})}  # fmt: skip
    client.close()
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for ticket_id, window in load.offered.items():
        row = table[window]
        row["offered"] += 1
        if ticket_id not in created:
            row["lost"] += 1
            continue
        row["tickets"] += 1
        row["duplicated"] += len(created[ticket_id]) > 1
        row["undecided"] += ticket_id not in decided
        row["unclocked"] += ticket_id not in clocked
        row["analytics"] += ticket_id in counted
    return {w: {c: table[w][c] for c in COLUMNS} for w in ("warm-up", *FAULTS, "after") if w in table}  # fmt: skip


async def chaos(args: argparse.Namespace, infra: LocalInfra) -> dict[str, Any]:
    ns = f"chaos{uuid.uuid4().hex[:8]}."
    await provision_topics(infra.bootstrap, namespace=ns)
    services = Services(infra, "chaos", ns, args.port_base)
    try:
        await asyncio.to_thread(services.wait_ready, 300)
        await register_agents(infra.bootstrap, ns, services.ports["s8_router"])
        load = Load(infra.bootstrap, ns, args.rate)
        sender = asyncio.create_task(load.run())
        await asyncio.sleep(args.window / 2)
        for fault in args.faults:
            load.window = fault
            print(f"==> kill -9 {fault}", flush=True)
            t0 = time.monotonic()
            await inject(fault, infra, services, args.down)
            await asyncio.sleep(max(0.0, args.window - (time.monotonic() - t0)))
        load.window = "after"
        await asyncio.sleep(args.window / 2)
        load.stopping.set()
        await sender
        offered_at = time.monotonic()
        print(f"==> {len(load.offered)} messages offered; waiting for every consumer group", flush=True)  # fmt: skip
        behind = await lagging(infra.bootstrap, ns)
        while behind and time.monotonic() - offered_at < args.drain:
            await asyncio.sleep(3)
            behind = await lagging(infra.bootstrap, ns)
        return {
            "rate": args.rate,
            "faults": list(args.faults),
            "drain_seconds": round(time.monotonic() - offered_at, 1),
            "groups_behind": behind,
            "table": await count(load, infra, ns),
        }
    finally:
        services.stop()


def report(result: dict[str, Any]) -> None:
    print(f"\n{'fault':<16}" + "".join(f"{c:>11}" for c in COLUMNS))
    totals: Counter[str] = Counter()
    for window, row in result["table"].items():
        totals.update(row)
        print(f"{window:<16}" + "".join(f"{row[c]:>11}" for c in COLUMNS))
    print(f"{'all':<16}" + "".join(f"{totals[c]:>11}" for c in COLUMNS))
    print(f"drained in {result['drain_seconds']}s; groups behind: {result['groups_behind'] or 'none'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--rate", type=float, default=30, help="new customers' messages per second")  # fmt: skip
    parser.add_argument("--faults", type=lambda s: tuple(s.split(",")), default=FAULTS, help=f"comma-separated, of {','.join(FAULTS)}")  # fmt: skip
    parser.add_argument("--window", type=float, default=25, help="seconds of load per fault")
    parser.add_argument("--down", type=float, default=3, help="seconds a killed part stays down")
    parser.add_argument("--drain", type=float, default=1200, help="seconds to wait for lag 0")
    parser.add_argument("--kafka-port", type=int, default=31092)
    parser.add_argument("--mongo-port", type=int, default=31017)
    parser.add_argument("--port-base", type=int, default=31100, help="services on base+1..base+5")  # fmt: skip
    args = parser.parse_args()
    unknown = set(args.faults) - set(FAULTS)
    if unknown:
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    infra = LocalInfra(LOCAL, args.kafka_port, args.mongo_port)
    infra.run("up")
    try:
        result = asyncio.run(chaos(args, infra))
    finally:
        infra.run("down")
    report(result)
    out = LOCAL / f"chaos-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"results: {out}\ncommand: {shlex.join([sys.executable, *sys.argv])}")
    failed = any(row["lost"] or row["duplicated"] for row in result["table"].values())
    raise SystemExit(1 if failed or result["groups_behind"] else 0)


if __name__ == "__main__":
    main()
