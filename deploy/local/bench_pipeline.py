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
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from bench_preload import preload
from prometheus_client.parser import text_string_to_metric_families
from pymongo import MongoClient
from roster import ROSTER
from traffic import MESSAGES

from s8_shared import topics
from s8_shared.contracts import AgentProfile, deterministic_id
from s8_shared.kafka.provision import delete_namespace, provision_topics

REPO = Path(__file__).resolve().parents[2]
LOCAL = REPO / ".local" / "bench"
HOST = "127.0.0.1"
SERVICES = ("s8_intake", "s8_router", "s8_sla_monitor", "s8_survey", "s8_analytics")
NAMES = ("Nguyễn Thị Mai", "Trần Quốc Bảo", "Lê Thu Trang", "Phạm Đức Long", "Vũ Ngọc Ánh")
# Vietnamese complaints that need a human (no FAQ question, no unaccented text): each gets a decision.
TEXTS = [m for m in MESSAGES["vi"] if m[0] not in ("Không đăng nhập được", "Hỏi về khuyến mãi", "Khan cap")]  # fmt: skip
Stats = dict[tuple[str, str], float]  # (service, Mongo command) -> seconds or count


@dataclass
class Result:
    phase: str
    stored: int
    n: int
    seconds: float
    mongo: tuple[Stats, Stats]  # seconds and count of Mongo commands during the measurement


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((HOST, port)) == 0


def infra(command: str, args: argparse.Namespace) -> None:
    ports = {"KAFKA": args.kafka_port, "KAFKA_CONTROLLER": args.kafka_port + 1, "MONGO": args.mongo_port}  # fmt: skip
    env = {**os.environ, **{f"S8_{k}_PORT": str(v) for k, v in ports.items()}}
    env.update(S8_LOCAL_DIR=str(LOCAL), S8_PYTHON=sys.executable)
    subprocess.run(["bash", str(REPO / "deploy/local/infra.sh"), command], env=env, check=True, timeout=300)  # fmt: skip


def http_get(port: int, path: str) -> bytes:
    with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=5) as resp:
        return bytes(resp.read())


class Services:
    """The five services as processes, on base+1..base+5, with the namespace's databases."""

    def __init__(self, phase: str, ns: str, args: argparse.Namespace) -> None:
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.ports = {m: args.port_base + i + 1 for i, m in enumerate(SERVICES)}
        (LOCAL / "logs").mkdir(parents=True, exist_ok=True)
        for module, port in self.ports.items():
            env = {**os.environ, "S8_KAFKA_BOOTSTRAP_SERVERS": args.bootstrap, "S8_MONGO_URI": args.mongo_uri}  # fmt: skip
            env.update(S8_MONGO_DATABASE=ns.replace(".", "_") + module, S8_TOPIC_NAMESPACE=ns)
            env.update(S8_CONSUMER_GROUP_PREFIX=f"{ns}s8-", S8_PROVISION_TOPICS="false")
            env.update(S8_HTTP_HOST=HOST, S8_HTTP_PORT=str(port))
            with (LOCAL / "logs" / f"{phase}-{module}.log").open("ab") as log:
                self.procs[module] = subprocess.Popen(
                    [sys.executable, "-m", module], env=env, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip

    def wait_ready(self, within: float) -> None:
        deadline, pending = time.monotonic() + within, dict(self.ports)
        while pending:
            for module, port in list(pending.items()):
                if self.procs[module].poll() is not None:
                    raise SystemExit(f"{module} exited; see {LOCAL}/logs/")
                try:
                    if json.loads(http_get(port, "/readyz"))["ready"]:
                        del pending[module]
                except OSError:
                    pass  # not listening yet, or 503 (not ready)
            if pending and time.monotonic() > deadline:
                raise SystemExit(f"not ready after {within:.0f}s: {', '.join(pending)} (logs in {LOCAL}/logs/)")  # fmt: skip
            time.sleep(0.5)

    def mongo(self) -> tuple[Stats, Stats]:
        """s8_mongo_command_duration_seconds (sum, count) per service and command."""
        seconds: Stats = {}
        count: Stats = {}
        for module, port in self.ports.items():
            for family in text_string_to_metric_families(http_get(port, "/metrics").decode()):
                for s in family.samples:
                    if s.name == "s8_mongo_command_duration_seconds_sum":
                        seconds[(module, s.labels["command"])] = s.value
                    elif s.name == "s8_mongo_command_duration_seconds_count":
                        count[(module, s.labels["command"])] = s.value
        return seconds, count

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # its own session: only what we started
                proc.wait(timeout=10)


def messages(run: str, n: int) -> list[tuple[str, bytes, bytes]]:
    """(expected ticket id, key, value) of n new customers' first messages: email or live chat."""
    out = []
    for i in range(n):
        subject, text = TEXTS[i % len(TEXTS)]
        msg: dict[str, Any] = {"text": text.format(order=f"B{10000 + i}"), "received_at": datetime.now(UTC).isoformat()}  # fmt: skip
        if i % 2 == 0:
            msg.update(channel="email", channel_message_id=f"<{run}.{i}@mail.example.vn>", subject=subject)  # fmt: skip
            msg.update({"from": {"address": f"khach.{run}.{i}@example.vn", "name": NAMES[i % 5]}, "to": [{"address": "support@s8.example.vn"}]})  # fmt: skip
        else:
            msg.update(channel="live_chat", channel_message_id=f"chat-{run}-{i}", session_id=f"S-{run}-{i}")  # fmt: skip
            msg.update(visitor_id=f"visitor-{run}-{i}", visitor_name=NAMES[i % 5], page_url="https://shop.example.vn/don-hang")  # fmt: skip
        dedup = f"{msg['channel']}:{msg['channel_message_id']}"
        ticket_id = "T-" + deterministic_id("ticket", dedup).hex[:16]  # intake's ticket_id_for
        out.append((ticket_id, dedup.encode(), json.dumps(msg, ensure_ascii=False).encode()))
    return out


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


async def register_agents(args: argparse.Namespace, ns: str, router_port: int) -> None:
    """The demo roster online, on the agents topic as agent desktops publish it."""
    producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap)
    await producer.start()
    try:
        for member in ROSTER:
            profile = AgentProfile.model_validate({**member, "presence": "online"})
            await producer.send_and_wait(topics.AGENTS.name(ns), profile.model_dump_json().encode(), key=profile.agent_id.encode())  # fmt: skip
    finally:
        await producer.stop()
    deadline = time.monotonic() + 60
    while sum(a["presence"] == "online" for a in json.loads(http_get(router_port, "/v1/agents"))) < len(ROSTER):  # fmt: skip
        if time.monotonic() > deadline:
            raise SystemExit(f"the router did not see the {len(ROSTER)} agents online within 60s")
        await asyncio.sleep(0.3)


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
        services = Services(phase, ns, args)
        await asyncio.to_thread(services.wait_ready, args.ready_timeout)
        await register_agents(args, ns, services.ports["s8_router"])
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
    args.bootstrap, args.mongo_uri = f"{HOST}:{args.kafka_port}", f"mongodb://{HOST}:{args.mongo_port}"  # fmt: skip
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks run
    if not (LOCAL / "lib").exists():  # infra.sh looks for the jars under S8_LOCAL_DIR
        LOCAL.mkdir(parents=True, exist_ok=True)
        (LOCAL / "lib").symlink_to(REPO / ".local" / "lib")
    started = not (port_open(args.kafka_port) and port_open(args.mongo_port))
    try:
        infra("up", args)
        results = [asyncio.run(run_phase("empty", 0, args))]
        if args.stored:
            results.append(asyncio.run(run_phase("stored", args.stored, args)))
        report(results)
    finally:
        if started and not args.keep:
            infra("down", args)


if __name__ == "__main__":
    main()
