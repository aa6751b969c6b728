#!/usr/bin/env python3
"""Readiness probe for the local infrastructure started by deploy/local/infra.sh.

Checks that each server REALLY answers, not just that its port is open:

* Mongo (mongo-java-server): ``ping``, then an upsert and a read-back of one document in db ``s8_probe``.
* Kafka: creates topic ``s8.probe`` if missing (AIOKafkaAdminClient), joins a consumer group on it,
  produces a message with a unique value and consumes that message back.

Both checks run concurrently and are retried until the deadline.

Usage: probe.py [--timeout SECONDS] [--only mongo|kafka]
Env:   S8_INFRA_TIMEOUT (120), S8_KAFKA_PORT (9092), S8_MONGO_PORT (27017)
Needs: pymongo>=4.13 (AsyncMongoClient) and aiokafka.

Exit codes: 0 all ready; 10 Mongo not ready; 11 Kafka not ready; 12 neither; 2 missing Python packages.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

PROBE_DB = "s8_probe"
PROBE_TOPIC = "s8.probe"
PROBE_GROUP = "s8.probe"

try:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError
    from pymongo import AsyncMongoClient
except ImportError as exc:  # pragma: no cover - depends on the interpreter used
    print(
        f"probe: missing Python package ({exc}). Run infra.sh with S8_PYTHON pointing at an interpreter "
        "that has pymongo>=4.13 and aiokafka installed.",
        file=sys.stderr,
    )
    sys.exit(2)


def log(msg: str) -> None:
    print(f"probe: {msg}", flush=True)


async def check_mongo_once(port: int) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        host="127.0.0.1",
        port=port,
        directConnection=True,
        serverSelectionTimeoutMS=2000,
        connectTimeoutMS=2000,
        socketTimeoutMS=5000,
    )
    try:
        await client.admin.command("ping")
        token = uuid.uuid4().hex
        coll = client[PROBE_DB]["probe"]
        await coll.replace_one(
            {"_id": "probe"}, {"_id": "probe", "value": token, "at": time.time()}, upsert=True
        )
        doc = await coll.find_one({"_id": "probe"})
        if not doc or doc.get("value") != token:
            raise RuntimeError(f"read back {doc!r}, expected value {token}")
    finally:
        await client.close()


async def check_kafka_once(port: int) -> None:
    bootstrap = f"127.0.0.1:{port}"
    common = dict(bootstrap_servers=bootstrap, request_timeout_ms=5000, retry_backoff_ms=200)

    admin = AIOKafkaAdminClient(**common)
    await admin.start()
    try:
        if PROBE_TOPIC not in await admin.list_topics():
            try:
                await admin.create_topics(
                    [NewTopic(PROBE_TOPIC, num_partitions=1, replication_factor=1)]
                )
                log(f"kafka: created topic {PROBE_TOPIC}")
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()

    token = uuid.uuid4().hex.encode()
    consumer = AIOKafkaConsumer(
        PROBE_TOPIC,
        group_id=PROBE_GROUP,
        auto_offset_reset="latest",
        enable_auto_commit=True,
        session_timeout_ms=10000,
        heartbeat_interval_ms=1000,
        **common,
    )
    producer = AIOKafkaProducer(acks="all", **common)
    await consumer.start()
    try:
        await producer.start()
        # Wait until the group coordinator has assigned the partition, and the position is known,
        # so that the message produced below is after the consumer's position.
        deadline = time.monotonic() + 15
        while not consumer.assignment():
            if time.monotonic() > deadline:
                raise RuntimeError(
                    "consumer got no partition assignment (group coordinator not ready?)"
                )
            await consumer.getmany(timeout_ms=200)
        for tp in consumer.assignment():
            await consumer.position(tp)

        await producer.send_and_wait(PROBE_TOPIC, token)

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                if any(r.value == token for r in records):
                    return
        raise RuntimeError("produced a message but did not consume it back within 10 s")
    finally:
        await producer.stop()
        await consumer.stop()


async def retry(
    name: str, check: Callable[[int], Awaitable[None]], port: int, deadline: float
) -> bool:
    attempt = 0
    last_error = "not tried"
    started = time.monotonic()
    while True:
        attempt += 1
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            await asyncio.wait_for(check(port), timeout=max(1.0, min(remaining, 40.0)))
            log(
                f"{name}: ready on 127.0.0.1:{port} ({time.monotonic() - started:.1f}s, attempt {attempt})"
            )
            return True
        except Exception as exc:
            last_error = f"{type(exc).__name__}: {exc}".strip()
        if attempt == 1 or attempt % 10 == 0:
            log(f"{name}: not ready yet ({last_error[:200]})")
        await asyncio.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
    log(
        f"{name}: NOT READY on 127.0.0.1:{port} after {time.monotonic() - started:.0f}s; last error: {last_error[:300]}"
    )
    return False


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--timeout", type=float, default=float(os.environ.get("S8_INFRA_TIMEOUT", "120"))
    )
    parser.add_argument("--only", choices=("mongo", "kafka"))
    args = parser.parse_args()

    # aiokafka logs every failed connection attempt at ERROR; the retry loop reports instead.
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)

    kafka_port = int(os.environ.get("S8_KAFKA_PORT", "9092"))
    mongo_port = int(os.environ.get("S8_MONGO_PORT", "27017"))
    deadline = time.monotonic() + args.timeout

    mongo_ok = kafka_ok = True
    tasks = {}
    if args.only in (None, "mongo"):
        tasks["mongo"] = retry("mongo", check_mongo_once, mongo_port, deadline)
    if args.only in (None, "kafka"):
        tasks["kafka"] = retry("kafka", check_kafka_once, kafka_port, deadline)
    results = dict(zip(tasks, await asyncio.gather(*tasks.values()), strict=True))
    mongo_ok = results.get("mongo", True)
    kafka_ok = results.get("kafka", True)

    if mongo_ok and kafka_ok:
        return 0
    if not mongo_ok and not kafka_ok:
        return 12
    return 10 if not mongo_ok else 11


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
