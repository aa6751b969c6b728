"""The topic fuzzer: hostile messages on every topic s8 reads, all six services running.

Per topic, in one barrage: random bytes, invalid UTF-8, JSON of the wrong type, 10,000-level
nesting, integers of 5,000 digits, lone surrogates, huge strings, `$` and dotted keys,
unknown channels and event types, valid messages with fields of the wrong type, and
messages above the 1 MiB read limit (gzip-compressed, as a producer may send them). Then one
valid message on `support.inbound.v1`. Prints: inputs, dead letters against inputs, whether
every consumer group caught up (no blocked partition), how long the valid message took to
become a ticket, and what the services logged as errors outside dead-lettering. Then a
storm of small bad messages on `support.inbound.v1` sent at once: dead letters per second.

    make fuzz                                  # 1,250 inputs per topic: 10,000 in all
    python deploy/local/fuzz_topics.py --per-topic 40
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import shlex
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from s8_analytics.app import build as build_analytics
from s8_analytics.settings import AnalyticsSettings
from s8_channels.app import build as build_channels
from s8_channels.settings import ChannelsSettings
from s8_desk.app import build as build_desk
from s8_desk.settings import DeskSettings
from s8_intake.app import build as build_intake
from s8_intake.settings import IntakeSettings
from s8_router.app import build as build_router
from s8_router.settings import RouterSettings
from s8_shared import topics
from s8_shared.contracts import DEADLETTER_EVENTS, TICKET_EVENTS, Event, EventFamily, InvalidMessage
from s8_shared.settings import ServiceSettings
from s8_shared.topics import TopicSpec
from s8_sla_monitor.app import build as build_sla
from s8_sla_monitor.settings import SlaMonitorSettings
from s8_survey.app import build as build_survey
from s8_survey.settings import SurveySettings
from s8_testing.builders import make_outbound, make_sms, make_ticket_created
from s8_testing.harness import PARTITIONS, TestStack
from s8_testing.infra import provide_infra

FUZZED = (
    topics.INBOUND, topics.TICKETS, topics.ACTIONS, topics.CUSTOMERS,
    topics.AGENTS, topics.ASSIGNMENTS, topics.SLA, topics.SURVEYS, topics.OUTBOUND,
)  # fmt: skip
SERVICES: tuple[tuple[Callable[[Any], Any], type[ServiceSettings]], ...] = (
    (build_intake, IntakeSettings), (build_router, RouterSettings),
    (build_sla, SlaMonitorSettings), (build_survey, SurveySettings),
    (build_analytics, AnalyticsSettings), (build_desk, DeskSettings),
    (build_channels, ChannelsSettings),
)  # fmt: skip
OVERSIZED = 1_200_000  # above the 1 MiB read limit; compressed, below the broker's


class Tolerant(EventFamily):
    """Reads a fuzzed topic: the fuzzer's own messages are skipped, not raised."""

    def decode(self, raw: bytes | str) -> Event[Any] | None:
        try:
            return super().decode(raw)
        except InvalidMessage:
            return None


TICKETS_READ = Tolerant("tickets", TICKET_EVENTS.types.values())


def valid_for(spec: TopicSpec) -> dict[str, Any]:
    """A well-formed message of the topic, to be mutated."""
    if spec is topics.INBOUND:
        return make_sms()
    if spec is topics.OUTBOUND:  # a chat reply: decoded and checked, never sent from here
        outbound: dict[str, Any] = json.loads(
            make_outbound(channel="live_chat", to="v-1").to_bytes()
        )
        return outbound
    event: dict[str, Any] = json.loads(make_ticket_created().to_bytes())
    return event


def mutate(rng: random.Random, message: dict[str, Any]) -> dict[str, Any]:
    """The message with one field given a value of another type or shape."""
    out = dict(message)
    key = rng.choice(sorted(out))
    out[key] = rng.choice(
        [None, 12, -1e308, True, [], {}, "x" * rng.randint(0, 3000), ["a", 1], {"$gt": ""}]
    )
    return out


def hostile(rng: random.Random, spec: TopicSpec, n: int) -> tuple[bytes, bool]:
    """The n-th hostile message for `spec` and whether it must be compressed."""
    base = valid_for(spec)
    kind = n % 12
    if kind == 0:
        return rng.randbytes(rng.randint(0, 2000)), False
    if kind == 1:
        return b'{"channel": "sms", "text": "\xff\xfe\xc3\x28"}', False
    if kind == 2:
        return json.dumps(rng.choice([[], 1, "x", None, True, [base]])).encode(), False
    if kind == 3:
        depth = 10_000
        return ("[" * depth + "]" * depth).encode(), False
    if kind == 4:
        return b'{"channel": "sms", "n": ' + b"9" * 5000 + b"}", False
    if kind == 5:
        return json.dumps({**base, "text": "\\ud800 alone"}).replace("\\\\ud800", "\\ud800").encode(), False  # fmt: skip
    if kind == 6:
        return json.dumps({**base, "text": "x" * 900_000}).encode(), False
    if kind == 7:
        return json.dumps({**base, "$where": "1", "a.b": {"$set": 1}, "": 0}).encode(), False
    if kind == 8:
        weird = {"channel": "carrier_pigeon"} if spec is topics.INBOUND else {"type": "ticket.exploded"}  # fmt: skip
        return json.dumps({**base, **weird}).encode(), False
    if kind == 9:
        return json.dumps({**base, "pad": "y" * OVERSIZED}).encode(), True
    return json.dumps(mutate(rng, base)).encode(), False


@contextlib.asynccontextmanager
async def services(stack: TestStack) -> AsyncIterator[None]:
    started: list[Any] = []
    try:
        for build, cls in SERVICES:
            extra = {"smtp_receiver_port": 0} if cls is ChannelsSettings else {}
            settings = stack.settings(cls, max_delivery_attempts=2, retry_backoff_seconds=0.05, **extra)  # fmt: skip
            runtime, _ = build(settings)
            await runtime.start()
            started.append(runtime)
        yield
    finally:
        for runtime in reversed(started):
            await runtime.stop()


async def lagging(stack: TestStack) -> list[str]:
    """The consumer groups of this run that have not committed every record of a topic
    they read (a blocked partition stays here for ever)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.infra.kafka_bootstrap_servers)
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.infra.kafka_bootstrap_servers)
    await admin.start()
    await consumer.start()
    behind: list[str] = []
    try:
        groups = [g[0] for g in await admin.list_consumer_groups() if g[0].startswith(stack.namespace)]  # fmt: skip
        for group in groups:
            committed = await admin.list_consumer_group_offsets(group)
            if not committed:
                continue
            end = await consumer.end_offsets(list(committed))
            if any(meta.offset < end[tp] for tp, meta in committed.items()):
                behind.append(group)
    finally:
        await consumer.stop()
        await admin.close()
    return behind


async def storm(
    bootstrap: str, ns: str, n: int, within: float, partitions: int = PARTITIONS
) -> tuple[int, float] | None:
    """A storm of `n` small bad messages on support.inbound.v1 of namespace `ns`, sent at once:
    dead letters per second from the first send until intake has dead-lettered the last, and
    CPU ms per message of this process (None if not within `within` seconds)."""
    topic = topics.DEADLETTER.name(ns)
    parts = [TopicPartition(topic, p) for p in range(min(topics.DEADLETTER.partitions, partitions))]  # fmt: skip
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await consumer.start()
    await producer.start()
    bad = (b"not json %d", b'{"channel": "sms", "n": %d}', b"[%d]", b'{"text": 5, "x": %d}')
    try:
        before = sum((await consumer.end_offsets(parts)).values())
        t0, cpu0 = time.monotonic(), time.process_time()
        for i in range(n):
            await producer.send(topics.INBOUND.name(ns), bad[i % len(bad)] % i, key=b"storm%d" % (i % 64))  # fmt: skip
        await producer.flush()
        while time.monotonic() - t0 < within:
            if sum((await consumer.end_offsets(parts)).values()) >= before + n:
                cpu_ms = (
                    (time.process_time() - cpu0) * 1000 / n
                )  # this process: the services and the sender
                return round(n / (time.monotonic() - t0)), round(cpu_ms, 2)
            await asyncio.sleep(0.2)
        return None
    finally:
        await producer.stop()
        await consumer.stop()


async def run(
    per_topic: int, seed: int = 8, drain_within: float = 300, storm_size: int = 0
) -> dict[str, Any]:
    rng = random.Random(seed)
    infra = next(provide_infra())
    async with TestStack(infra) as stack, services(stack):
        producer = AIOKafkaProducer(
            bootstrap_servers=infra.kafka_bootstrap_servers,
            compression_type="gzip",
            max_request_size=4 * OVERSIZED,
        )
        plain = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers, max_request_size=4 * OVERSIZED)  # fmt: skip
        await producer.start()
        await plain.start()
        sent: Counter[str] = Counter()
        refused = 0
        t0 = time.monotonic()
        try:
            for spec in FUZZED:
                for n in range(per_topic):
                    value, compress = hostile(rng, spec, n)
                    key = f"k{n % 7}".encode()
                    try:
                        await (producer if compress else plain).send(stack.topic(spec), value, key=key)  # fmt: skip
                        sent[spec.base_name] += 1
                    except Exception:  # the broker's own limit: never reaches s8
                        refused += 1
            await producer.flush()
            await plain.flush()
            barrage_s = time.monotonic() - t0
            # Its own customer: the fuzzer's valid-looking messages share make_sms's number.
            sentinel = make_sms(channel_message_id=f"fuzz-sentinel-{seed}", from_number="0912000111", text="Tôi chưa nhận được hàng, đơn A1.")  # fmt: skip
            t1 = time.monotonic()
            await plain.send_and_wait(stack.topic(topics.INBOUND), json.dumps(sentinel).encode(), key=b"sentinel")  # fmt: skip
        finally:
            await producer.stop()
            await plain.stop()
        valid_s = None
        while time.monotonic() - t1 < drain_within:
            created = [e for e in await stack.read_all(topics.TICKETS, TICKETS_READ) if e.type == "ticket.created" and e.payload.first_message.message_id == f"sms:fuzz-sentinel-{seed}"]  # fmt: skip
            if created:
                valid_s = time.monotonic() - t1
                break
            await asyncio.sleep(1)
        behind = await lagging(stack)
        while behind and time.monotonic() - t1 < drain_within:
            await asyncio.sleep(2)
            behind = await lagging(stack)
        dead = await stack.read_all(topics.DEADLETTER, DEADLETTER_EVENTS)
        stormed = (
            await storm(
                stack.infra.kafka_bootstrap_servers,
                stack.namespace,
                storm_size,
                within=drain_within,
            )
            if storm_size
            else None
        )
        by_type = Counter(d.payload.error_type for d in dead)
        gave_up = Counter(f"{d.payload.service} {d.payload.source_topic}: {d.payload.reason[:140]}" for d in dead if d.payload.error_type == "gave_up")  # fmt: skip
        return {
            "inputs": sum(sent.values()),
            "refused_by_broker": refused,
            "per_topic": dict(sent),
            "barrage_seconds": round(barrage_s, 1),
            "dead_letters": len(dead),
            "dead_letters_by_type": dict(by_type),
            "gave_up_reasons": gave_up.most_common(6),
            "groups_behind": behind,
            "valid_message_seconds": None if valid_s is None else round(valid_s, 1),
            "drain_seconds": round(time.monotonic() - t1, 1),
            "storm_messages": storm_size,
            "storm_dead_letters_per_s": stormed and stormed[0],
            "storm_cpu_ms_per_message": stormed and stormed[1],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--per-topic", type=int, default=1250)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--storm", type=int, default=10_000, help="bad messages sent at once after the barrage, to measure dead letters/s")  # fmt: skip
    args = parser.parse_args()
    result = asyncio.run(run(args.per_topic, args.seed, storm_size=args.storm))
    for key, value in result.items():
        print(f"{key:<24}{value}")
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    ok = not result["groups_behind"] and result["valid_message_seconds"] is not None
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
