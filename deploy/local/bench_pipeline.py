"""Pipeline throughput with an empty store versus a store holding a history of tickets.

Runs its own Kafka and store (deploy/local/infra.sh on the ports below, S8_LOCAL_DIR=.local/bench),
then per phase, in a fresh topic namespace and fresh databases: (stored phase) preloads the history
(bench_preload.py), starts the five services, registers the demo roster, sends warm-up messages,
then publishes N new customer messages at once to support.inbound.v1 and measures until the router
has published a decision (ticket.assigned or ticket.queued) and the SLA monitor a sla.clock_started
for every one of them. Throughput = N / that time. Prints the table, the ratio stored/empty, the
services' Mongo commands that slowed down most (s8_mongo_command_duration_seconds during the
measurement) and the command line. Service logs: .local/bench/logs/<phase>-<module>.log.

  .venv/bin/python deploy/local/bench_pipeline.py [--tickets 300] [--stored 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from bench_preload import preload
from procs import REPO, LocalInfra, Services, Stats, new_customer_message, register_agents
from pymongo import MongoClient
from roster import ROSTER

from s8_shared import topics
from s8_shared.kafka.provision import delete_namespace, provision_topics

LOCAL = REPO / ".local" / "bench"


@dataclass
class Result:
    phase: str
    stored: int
    n: int
    seconds: float
    mongo: tuple[Stats, Stats]  # seconds and count of Mongo commands during the measurement


def messages(run: str, n: int) -> list[tuple[str, bytes, bytes]]:
    return [new_customer_message(run, i) for i in range(n)]


async def publish_and_wait(args: argparse.Namespace, ns: str, batch: list[tuple[str, bytes, bytes]]) -> float:  # fmt: skip
    """Publishes the batch at once; seconds until every ticket has a decision and a clock."""
    consumer = AIOKafkaConsumer(bootstrap_servers=args.bootstrap, enable_auto_commit=False)
    producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap, enable_idempotence=True, linger_ms=5)  # fmt: skip
    await asyncio.gather(consumer.start(), producer.start())
    try:
        watched = (topics.ASSIGNMENTS, topics.SLA)
        parts = [TopicPartition(t.name(ns), p) for t in watched for p in range(t.partitions)]
        consumer.assign(parts)
        await consumer.seek_to_end(*parts)
        for tp in parts:
            await consumer.position(tp)  # fixes the start before anything is sent
        expected = {ticket_id for ticket_id, _, _ in batch}
        decided, clocked = set[str](), set[str]()
        start = end = time.monotonic()
        await asyncio.gather(*[await producer.send(topics.INBOUND.name(ns), v, key=k) for _, k, v in batch])  # fmt: skip
        while not expected <= decided or not expected <= clocked:
            if time.monotonic() - start > args.timeout:
                raise SystemExit(
                    f"timed out after {args.timeout:.0f}s: {len(expected - decided)} of {len(expected)} tickets "
                    f"without a routing decision, {len(expected - clocked)} without an SLA clock, e.g. "
                    f"{sorted((expected - decided) | (expected - clocked))[:3]} (logs in {LOCAL}/logs/)"
                )  # fmt: skip
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    event = json.loads(record.value or b"{}")
                    ticket_id = event.get("payload", {}).get("ticket_id")
                    if event.get("type") in ("ticket.assigned", "ticket.queued"):
                        decided.add(ticket_id)
                    elif event.get("type") == "sla.clock_started":
                        clocked.add(ticket_id)
            end = time.monotonic()
        return end - start
    finally:
        await producer.stop()
        await consumer.stop()


async def run_phase(phase: str, stored: int, args: argparse.Namespace) -> Result:
    resume = phase == "stored" and args.resume
    run = args.resume.removeprefix("bench")[:8] if resume else uuid.uuid4().hex[:8]
    ns = f"bench{run}{phase[0]}."
    prefix = ns.replace(".", "_")
    print(f"==> {phase}: topics {ns}*, databases {prefix}s8_*", flush=True)
    await provision_topics(args.bootstrap, namespace=ns)
    services: Services | None = None
    try:
        if stored:
            t0 = time.monotonic()
            counts = await asyncio.to_thread(
                preload, args.mongo_uri, prefix, stored, resume=bool(resume)
            )
            print(f"    preload: {stored:,} tickets, {sum(counts.values()):,} documents in {len(counts)} collections in {time.monotonic() - t0:.1f}s", flush=True)  # fmt: skip
        t0 = time.monotonic()
        services = Services(args.infra, phase, ns, args.port_base)
        await asyncio.to_thread(services.wait_ready, args.ready_timeout)
        await register_agents(args.bootstrap, ns, services.ports["s8_router"])
        print(f"    services ready, {len(ROSTER)} agents online in {time.monotonic() - t0:.1f}s", flush=True)  # fmt: skip
        await publish_and_wait(args, ns, messages(f"w{run}", 5))  # warm-up: consumers joined
        seconds0, count0 = await asyncio.to_thread(services.mongo)
        seconds = await publish_and_wait(args, ns, messages(run, args.tickets))
        seconds1, count1 = await asyncio.to_thread(services.mongo)
        print(f"    {args.tickets} tickets decided and clocked in {seconds:.2f}s", flush=True)
        spent = {k: v - seconds0.get(k, 0.0) for k, v in seconds1.items()}
        return Result(phase, stored, args.tickets, seconds, (spent, {k: v - count0.get(k, 0.0) for k, v in count1.items()}))  # fmt: skip
    finally:
        if services is not None:
            services.stop()
        if not args.keep:
            await delete_namespace(args.bootstrap, ns)
            client: MongoClient[dict[str, Any]] = MongoClient(args.mongo_uri, serverSelectionTimeoutMS=10_000)  # fmt: skip
            for name in client.list_database_names():
                if name.startswith(prefix):
                    client.drop_database(name)
            client.close()


def report(results: list[Result]) -> None:
    print(f"\n{'phase':<8}{'stored tickets':>16}{'N':>7}{'seconds':>10}{'tickets/s':>11}")
    for r in results:
        print(f"{r.phase:<8}{r.stored:>16,}{r.n:>7}{r.seconds:>10.2f}{r.n / r.seconds:>11.1f}")
    if len(results) == 2:
        empty, full = results
        print(f"ratio stored/empty: {empty.seconds / full.seconds:.2f} (goal >= 0.8)")
        print("\nMongo commands during the measurement, most added time first (mean ms empty -> stored):")  # fmt: skip
        rows = []
        for key, total in full.mongo[0].items():
            base = empty.mongo[0].get(key, 0.0) / max(1.0, empty.mongo[1].get(key, 0.0))
            count = full.mongo[1].get(key, 0.0)
            rows.append((total - base * count, key, base, total / max(1.0, count), count))
        for added, (module, command), base, mean, count in sorted(rows, reverse=True)[:8]:
            print(f"  {module:<15}{command:<16}{base * 1000:8.2f} -> {mean * 1000:8.2f} ms  x{count:<6.0f}  {added:+.2f}s")  # fmt: skip
    print(f"\ncommand: {shlex.join([sys.executable, *sys.argv])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--tickets", type=int, default=300, help="new messages per phase (N)")
    parser.add_argument("--stored", type=int, default=200_000, help="tickets preloaded for phase 2")
    parser.add_argument("--kafka-port", type=int, default=29092, help="Kafka port (controller: +1)")
    parser.add_argument("--mongo-port", type=int, default=28017)
    parser.add_argument("--port-base", type=int, default=28100, help="services on base+1..base+5")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a measurement may take")
    parser.add_argument("--ready-timeout", type=float, default=600, help="seconds to start up")
    parser.add_argument("--keep", action="store_true", help="keep servers, topics and databases")
    parser.add_argument("--resume", metavar="NAMESPACE", help="finish the stored phase of an earlier run whose preload stopped (its namespace, e.g. bench0123abcds)")  # fmt: skip
    args = parser.parse_args()
    args.infra = LocalInfra(LOCAL, args.kafka_port, args.mongo_port)
    args.bootstrap, args.mongo_uri = args.infra.bootstrap, args.infra.mongo_uri
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks run
    started = not args.infra.running()
    try:
        args.infra.run("up")
        results = [asyncio.run(run_phase("empty", 0, args))]
        if args.stored:
            results.append(asyncio.run(run_phase("stored", args.stored, args)))
        report(results)
    finally:
        if started and not args.keep:
            args.infra.run("down")


if __name__ == "__main__":
    main()
