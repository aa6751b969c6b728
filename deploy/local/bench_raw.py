"""The baseline for s8's throughput figures: raw aiokafka on the same broker, no s8 code.

Produces N records of `--size` bytes to a fresh topic of `support.inbound.v1`'s partitions
(acks=all, idempotent, as s8's producers) and consumes them back in one consumer, timing from
the first send to the last record read: batched (sends not awaited one by one) and awaited
per send (each send waits for the broker, as a naive publisher would). Prints a table, the
ratio and the command; JSON under .local/bench/raw-<time>.json.

  .venv/bin/python deploy/local/bench_raw.py [--messages 50000] [--awaited 2000] [--size 636]
  (against the broker on S8_KAFKA_PORT, default 9092: bash deploy/local/with-infra.sh ...)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from s8_shared import topics
from s8_shared.kafka.provision import delete_namespace, provision_topics

REPO = Path(__file__).resolve().parents[2]


async def run_phase(bootstrap: str, n: int, size: int, *, awaited: bool) -> float:
    """Records per second produced and consumed end to end."""
    namespace = f"raw{uuid.uuid4().hex[:8]}."
    await provision_topics(bootstrap, namespace=namespace, topics=(topics.INBOUND,))
    topic = topics.INBOUND.name(namespace)
    # Awaited sends gain nothing from lingering: each waits for its own acknowledgement.
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=0 if awaited else 5)  # fmt: skip
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=f"{namespace}bench")  # fmt: skip
    await asyncio.gather(producer.start(), consumer.start())
    value = b"x" * size
    try:
        while not consumer.assignment():  # the group's join is not part of the figure
            await consumer.getmany(timeout_ms=100)
        started = time.monotonic()

        async def produce() -> None:
            for i in range(n):
                delivery = await producer.send(topic, value, key=b"k%d" % (i % 512))
                if awaited:
                    await delivery
            await producer.flush()

        async def consume() -> None:
            seen = 0
            while seen < n:
                batches = await consumer.getmany(timeout_ms=500, max_records=5000)
                seen += sum(len(records) for records in batches.values())

        await asyncio.gather(produce(), consume())
        return n / (time.monotonic() - started)
    finally:
        await asyncio.gather(producer.stop(), consumer.stop())
        await delete_namespace(bootstrap, namespace)


async def main(args: argparse.Namespace) -> dict[str, float]:
    bootstrap = f"127.0.0.1:{os.environ.get('S8_KAFKA_PORT', '9092')}"
    batched = await run_phase(bootstrap, args.messages, args.size, awaited=False)
    awaited = await run_phase(bootstrap, args.awaited, args.size, awaited=True)
    return {"batched_per_s": round(batched), "awaited_per_s": round(awaited)}


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--awaited", type=int, default=2_000)
    parser.add_argument("--size", type=int, default=636)
    args = parser.parse_args()
    result = asyncio.run(main(args))
    print(f"{'raw aiokafka, produce + consume':<40}{'records':>9}{'per second':>12}")
    print(f"{'batched (acks=all, idempotent)':<40}{args.messages:>9}{result['batched_per_s']:>12,}")
    print(f"{'awaited per send':<40}{args.awaited:>9}{result['awaited_per_s']:>12,}")
    command = shlex.join([sys.executable, *sys.argv])
    print(f"command: {command}")
    out = REPO / ".local" / "bench" / f"raw-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**result, **vars(args), "command": command}, indent=2))


if __name__ == "__main__":
    cli()
