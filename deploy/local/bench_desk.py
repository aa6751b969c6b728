"""`make bench-desk`: how long a notice takes from its Kafka event to an agent's browser
(issue 19's goal: p99 under 1 s under `make run`'s traffic).

Its own Kafka and store (infra.sh under .local/bench-desk, ports 29192-29194 and 28117, clear
of `make run` and `make bench`; the shared Keycloak on 18080), a fresh namespace and databases
with intake, router, SLA monitor and desk as processes (ports 28201-28203, 28206), the demo
roster online, `make run`'s SLA policies (seconds: warnings and breaches happen) and one
`GET /v1/stream` per roster agent with their token, read as a browser's EventSource reads it.

Traffic as `make run` makes it, at `--rate` messages/s (its default, 3): its generator's
customers on every channel plus follow-ups (a third of the messages) from customers whose
e-mail or chat went out seconds before (`customer_answered`); its simulated agents answer
and solve what they are assigned (freeing capacity: more `assigned`), offer compensation
(`approval_needed`) and step away (`transferred_away`); its simulated lead decides approvals.

Per notice read, in ms: reading time - the timestamp of the Kafka record of the event that
caused it (the notice names it, `event_id`; a consumer of the topics notes every record's
time): "from the Kafka event to the browser", the goal. Beside it, reading time - `at` (the
event's own time: the customer's message as sent, the routing decision), the whole pipeline
up to the browser. Prints p50/p95/p99/max by kind, whether p99 < 1 s, the desk's own
s8_desk_notice_delivery_seconds (event -> push) over the same window, and the command; JSON
under .local/bench/desk-<time>.json.

  .venv/bin/python deploy/local/bench_desk.py [--rate 3] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shlex
import signal
import subprocess
import sys
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from agents import AgentStats, Call, simulate_agents, simulate_lead
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from bench_desk_report import (
    Readings,
    follow_up,
    from_records,
    goal_met,
    histogram,
    histogram_result,
    latency_summary,
    print_report,
    sample_sum,
)
from bench_report import previous
from desk_streams import follow
from proactive_demo import LEAD
from procs import (
    HOST,
    REPO,
    TOKENS,
    LocalInfra,
    Services,
    http_get,
    new_customer_message,
    register_agents,
)
from pymongo import MongoClient
from roster import ROSTER
from traffic import TrafficGenerator

from s8_shared import topics
from s8_shared.kafka.provision import delete_namespace, provision_topics

MODULES = ("s8_intake", "s8_router", "s8_sla_monitor", "s8_desk")
RESULTS = REPO / ".local" / "bench"
PUSHED = "s8_desk_notices_total"  # notices handed to open streams, by kind
FOLLOW_AFTER = 5.0  # seconds after a customer's first message: assigned by then, rarely solved


@dataclass
class Sent:
    messages: int = 0  # make run's traffic: new customers, returning ones, re-sends, malformed
    follow_ups: int = 0


async def traffic(bootstrap: str, ns: str, rate: float, seconds: float, share: float, sent: Sent) -> None:  # fmt: skip
    """`make run`'s traffic at `rate`, `share` of it follow-ups: a customer whose e-mail or
    chat went out FOLLOW_AFTER seconds before writes again in that conversation."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5)
    await producer.start()
    generator = TrafficGenerator(seed=19)
    openers: deque[tuple[float, bytes, bytes]] = deque()  # (sent at, key, value) to follow up
    start, i = time.monotonic(), 0
    try:
        while (now := time.monotonic()) - start < seconds:
            if (
                openers
                and openers[0][0] <= now - FOLLOW_AFTER
                and sent.follow_ups < share * (i + 1)
            ):
                _, key, first = openers.popleft()  # same key: its conversation's partition
                if (value := follow_up(first, i)) is None:
                    continue  # not queued: only e-mails and chats are
                sent.follow_ups += 1
            else:
                out = generator.next()
                key, value = out.key, out.value
                if out.kind == "message" and follow_up(value, 0):
                    openers.append((now, key, value))
                sent.messages += 1
            await producer.send(topics.INBOUND.name(ns), value, key=key)
            i += 1
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        await producer.flush()
    finally:
        await producer.stop()


NOTICE_TOPICS = (topics.TICKETS, topics.ASSIGNMENTS, topics.SLA)  # what notices come from


async def record_times(bootstrap: str, ns: str, published: dict[str, float]) -> None:
    """Every event on the topics notices come from, by id: its record's timestamp (set as its
    service published it), until cancelled: where "from the Kafka event" starts."""
    consumer = AIOKafkaConsumer(
        *(spec.name(ns) for spec in NOTICE_TOPICS),
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        while True:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                for record in records:
                    with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):
                        published[str(json.loads(record.value)["event_id"])] = record.timestamp / 1000  # fmt: skip
    finally:
        await consumer.stop()


async def warm_up(bootstrap: str, ns: str, readings: Readings, within: float) -> None:
    """Three new customers who need a human, until their notices are read: every consumer
    has joined and the pipe works end to end before anything is measured."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for i in range(3):
            _, key, value = new_customer_message(f"w{ns[4:12]}", i)
            await producer.send_and_wait(topics.INBOUND.name(ns), value, key=key)
    finally:
        await producer.stop()
    deadline = time.monotonic() + within
    while len(readings.samples) < 3:
        if time.monotonic() > deadline:
            raise SystemExit(f"no notices on the streams within {within:.0f}s (service logs: <--local>/logs/)")  # fmt: skip
        await asyncio.sleep(0.3)


def api(client: httpx.AsyncClient, port: int, as_: str) -> Call:
    """(method, path, JSON body) -> JSON answer, as `as_`: what agents.py's simulations call."""

    async def call(method: str, path: str, body: Any) -> Any:
        headers = await TOKENS.headers_for(as_)
        try:
            reply = await client.request(method, f"http://{HOST}:{port}{path}", json=body, headers=headers)  # fmt: skip
        except httpx.HTTPError as exc:
            raise OSError(f"{method} {path}: {exc!r}") from exc
        if reply.is_error:  # the simulations treat a refusal as OSError and go on
            raise OSError(f"{method} {path}: {reply.status_code} {reply.text[:200]}")
        return reply.json()

    return call


async def settle(services: Services, readings: Readings, pushed0: float, within: float) -> float:
    """Waits (at most `within` s) until the streams have read every notice the desk pushed and
    nothing came for 2 s; the notices pushed since `pushed0`."""
    deadline, quiet_since, last = time.monotonic() + within, time.monotonic(), -1
    while True:
        pushed = sample_sum(await asyncio.to_thread(desk_metrics, services), PUSHED) - pushed0
        if len(readings.samples) != last:
            quiet_since, last = time.monotonic(), len(readings.samples)
        if time.monotonic() > deadline or (last >= pushed and time.monotonic() - quiet_since > 2):
            return pushed
        await asyncio.sleep(0.5)


def desk_metrics(services: Services) -> str:
    return http_get(services.ports["s8_desk"], "/metrics").decode()


async def wait_streams(services: Services, n: int, within: float) -> None:
    deadline = time.monotonic() + within
    while True:
        open_ = sample_sum(await asyncio.to_thread(desk_metrics, services), "s8_desk_open_streams")
        if open_ >= n:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"only {open_:.0f} of {n} streams open after {within:.0f}s")
        await asyncio.sleep(0.3)


async def measure(args: argparse.Namespace, services: Services, ns: str, result: dict[str, Any]) -> None:  # fmt: skip
    bootstrap, port = args.infra.bootstrap, services.ports
    readings, stats, stop, sent = Readings(), AgentStats(), asyncio.Event(), Sent()
    timeout = httpx.Timeout(10.0, read=None)  # a stream is quiet between notices
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port['s8_desk']}", timeout=timeout) as client:  # fmt: skip
        policies = yaml.safe_load((Path(__file__).parent / "demo_sla_policies.yaml").read_text(encoding="utf-8"))  # fmt: skip
        await api(client, port["s8_sla_monitor"], "an")("PUT", "/v1/policies", policies)
        streams = [asyncio.create_task(follow(client, m["agent_id"], readings)) for m in ROSTER]
        published: dict[str, float] = {}
        streams.append(asyncio.create_task(record_times(bootstrap, ns, published)))

        async def presence(agent: str, state: str) -> None:
            with contextlib.suppress(OSError):  # refused: the agent stays as they were
                await api(client, port["s8_router"], agent)("PUT", f"/v1/agents/{agent}/presence", {"presence": state})  # fmt: skip

        actors = [
            asyncio.create_task(simulate_agents(bootstrap, ns, stop, stats, presence, seed=19)),
            asyncio.create_task(
                simulate_lead(LEAD, stop, api(client, port["s8_intake"], LEAD), stats, seed=19)
            ),
        ]
        try:
            await wait_streams(services, len(ROSTER), 60)
            print(f"==> {len(ROSTER)} streams open; warm-up", flush=True)
            await warm_up(bootstrap, ns, readings, 120)
            await asyncio.sleep(2)
            readings.clear()
            before = await asyncio.to_thread(desk_metrics, services)
            print(f"==> {args.rate:g} messages/s for {args.seconds:g}s", flush=True)
            await traffic(bootstrap, ns, args.rate, args.seconds, args.follow_ups, sent)
            stop.set()  # the agents stop working; what is under way still reaches the streams
            pushed0 = sample_sum(before, PUSHED)
            result["pushed"] = round(await settle(services, readings, pushed0, args.drain))
            after = await asyncio.to_thread(desk_metrics, services)
        finally:
            stop.set()
            for task in streams:
                task.cancel()
            await asyncio.gather(*streams, return_exceptions=True)
            await asyncio.gather(*actors, return_exceptions=True)
    result["sent"] = {"messages": sent.messages, "follow_ups": sent.follow_ups}
    result["agents"] = {"replies": stats.replies, "solved": stats.solved, "offers": stats.offers, "approved": stats.approved}  # fmt: skip
    result["streams"], result["reconnects"] = len(ROSTER), readings.reconnects
    from_kafka, result["unmatched"] = from_records(readings.reads, published)
    result["latency_ms"] = latency_summary(from_kafka)
    result["pipeline_ms"] = latency_summary(readings.samples)
    result["goal_met"] = goal_met(result["latency_ms"]) and result["unmatched"] == 0
    result["desk_histogram"] = histogram_result(histogram(after).minus(histogram(before)))


async def run(args: argparse.Namespace, result: dict[str, Any]) -> None:
    ns = f"desk{uuid.uuid4().hex[:8]}."
    await provision_topics(args.infra.bootstrap, namespace=ns)
    # The desk's writes would go to this stack's intake and router, never to `make run`'s.
    env = {"S8_INTAKE_URL": f"http://{HOST}:{args.port_base + 1}", "S8_ROUTER_URL": f"http://{HOST}:{args.port_base + 2}"}  # fmt: skip
    services = Services(args.infra, "desk", ns, args.port_base, MODULES, env=env)
    try:
        await asyncio.to_thread(services.wait_ready, args.ready_timeout)
        await register_agents(args.infra.bootstrap, ns, services.ports["s8_router"])
        await measure(args, services, ns, result)
    finally:
        services.stop()
        await delete_namespace(args.infra.bootstrap, ns)
        client: MongoClient[dict[str, Any]] = MongoClient(args.infra.mongo_uri, serverSelectionTimeoutMS=10_000)  # fmt: skip
        for name in client.list_database_names():
            if name.startswith(ns.replace(".", "_")):
                client.drop_database(name)
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--rate", type=float, default=3.0, help="customer messages per second (make run's default)")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=60, help="seconds of traffic measured")
    parser.add_argument("--follow-ups", type=float, default=1 / 3, help="share of the messages that are follow-ups")  # fmt: skip
    parser.add_argument("--drain", type=float, default=20, help="seconds to wait for the last notices")  # fmt: skip
    parser.add_argument("--ready-timeout", type=float, default=300)
    parser.add_argument("--kafka-port", type=int, default=29192, help="Kafka port (controller +1, SASL +2)")  # fmt: skip
    parser.add_argument("--mongo-port", type=int, default=28117)
    parser.add_argument("--port-base", type=int, default=28200, help="services on base+1..base+6")
    parser.add_argument("--local", type=Path, default=REPO / ".local" / "bench-desk", help="the stack's S8_LOCAL_DIR")  # fmt: skip
    args = parser.parse_args()
    args.infra = LocalInfra(args.local, args.kafka_port, args.mongo_port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks run
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()  # fmt: skip
    result: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "commit": commit, "command": shlex.join([sys.executable, *sys.argv]), "args": sys.argv[1:], "rate": args.rate, "seconds": args.seconds}  # fmt: skip
    started = not args.infra.running()
    try:
        args.infra.run("up")
        asyncio.run(run(args, result))
    finally:
        if started:
            args.infra.run("down")
    out = RESULTS / f"desk-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    before = previous(RESULTS, out, result["args"], "desk-*.json")
    out.write_text(json.dumps(result, indent=2))
    print_report(result, before)


if __name__ == "__main__":
    main()
