"""Benchmark of the local MongoDB-wire store: mongo-java-server as shipped against s8's launcher.

    .venv/bin/python deploy/local/bench_store.py [--stored 200000] [--seconds 10]

For each variant it starts a store of its own (a free port, a temporary file) and measures:
the start-up time (empty, and reopening with the stored documents), s8's operation mix in
operations per second with 1,000 and with `--stored` documents (ticket-shaped, ~1 KB), the
latency of an indexed point query at both sizes, acknowledged writes lost to a kill -9 under
load, the JVM's memory and the file's size. Results are printed as a table with the command.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

REPO = Path(__file__).resolve().parents[2]
SHIPPED = ["-Ds8.mongo.commitEveryWrite=false", "-Ds8.mongo.secondaryIndexes=false"]
VARIANTS = {
    "as shipped": [
        *SHIPPED,
        "-Ds8.mongo.cacheMB=16",
        "-Ds8.mongo.compress=false",
        "-Ds8.mongo.compactFillRate=90",
    ],
    "s8 launcher": [],
}
Client = AsyncMongoClient[dict[str, Any]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Store:
    def __init__(self, path: Path, options: list[str]) -> None:
        self.path, self.options, self.port = path, options, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        began = time.monotonic()
        self.process = subprocess.Popen(
            [
                *("java", "-Xmx1g", "-XX:+UseSerialGC", *self.options),
                *(
                    "-cp",
                    f"{REPO}/.local/lib/mongo/*",
                    str(REPO / "deploy/local/MongoLauncher.java"),
                ),
                *(str(self.path), "127.0.0.1", str(self.port)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        while time.monotonic() - began < 300:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return time.monotonic() - began
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the store did not start within 300 s")

    def rss_mb(self) -> float:
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=60)

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def client(self) -> Client:
        return AsyncMongoClient(f"mongodb://127.0.0.1:{self.port}", journal=True, tz_aware=True)


def ticket(i: int, now: datetime) -> dict[str, Any]:
    return {
        "_id": f"T-{i:08d}",
        "conversation_key": f"email:c{i}@example.vn:{i}",
        "customer_id": f"C-{i % 50_000:06d}",
        "status": "solved",
        "priority": random.choice(["low", "normal", "high", "urgent"]),
        "state": "stopped",
        "next_fire_at": now - timedelta(days=1, seconds=i),
        "subject": "Đơn hàng giao chậm",
        "text": "Tôi đặt hàng tuần trước mà vẫn chưa nhận được, nhờ shop kiểm tra giúp. " * 8,
        "rev": 1,
        "outbox": [],
    }


async def prepare(col: Any) -> None:
    await col.create_index([("conversation_key", 1)], unique=True)
    await col.create_index([("customer_id", 1)])
    await col.create_index([("state", 1), ("next_fire_at", 1)])


async def fill(col: Any, start: int, stop: int, now: datetime) -> None:
    for first in range(start, stop, 1000):
        batch = [ticket(i, now) for i in range(first, min(first + 1000, stop))]
        await col.insert_many(batch, ordered=False)


async def op_mix(col: Any, seconds: float, base: int, now: datetime) -> float:
    """s8's commands per new ticket: insert, look-ups by key, customer and id, a conditional
    update, outbox push and pull, and a claim of the next due clock."""
    ops, n, began = 0, 0, time.monotonic()
    while time.monotonic() - began < seconds:
        i = base + n
        doc = ticket(i, now) | {"state": "running", "status": "open"}
        await col.insert_one(doc)
        await col.find_one({"conversation_key": doc["conversation_key"]})
        await col.find({"customer_id": doc["customer_id"], "status": "open"}).to_list(None)
        await col.find_one({"_id": doc["_id"]})
        await col.update_one({"_id": doc["_id"], "rev": 1}, {"$set": {"rev": 2, "status": "new"}})
        await col.update_one({"_id": doc["_id"]}, {"$push": {"outbox": {"id": 1, "e": "x"}}})
        await col.update_one({"_id": doc["_id"]}, {"$pull": {"outbox": {"id": {"$in": [1]}}}})
        await col.find_one_and_update(
            {"state": "running", "next_fire_at": {"$lte": now}},
            {"$set": {"state": "stopped"}},
            sort=[("next_fire_at", 1)],
        )
        ops, n = ops + 8, n + 1
    return ops / (time.monotonic() - began)


async def point_query_ms(col: Any) -> float:
    samples = []
    for _ in range(5):
        began = time.monotonic()
        await col.find({"customer_id": f"C-{random.randrange(500):06d}"}).to_list(None)
        samples.append((time.monotonic() - began) * 1000)
    return sorted(samples)[2]


async def lost_on_kill(store: Store) -> tuple[int, int]:
    acked: list[str] = []

    async def writer(col: Any, w: int) -> None:
        for i in range(1_000_000):
            try:
                await col.insert_one({"_id": f"k{w}-{i}", "payload": "x" * 512})
            except PyMongoError:
                return
            acked.append(f"k{w}-{i}")

    mongo = store.client()
    tasks = [asyncio.create_task(writer(mongo.bench.kill, w)) for w in range(4)]
    await asyncio.sleep(2.0)  # a benchmark, not a test: writes for a fixed time, then kills
    store.kill()
    await asyncio.gather(*tasks)
    await mongo.close()
    store.start()
    mongo = store.client()
    stored = {d["_id"] async for d in mongo.bench.kill.find({}, projection={"_id": 1})}
    await mongo.close()
    return len([a for a in acked if a not in stored]), len(acked)


async def timed(what: str, step: Callable[[], Awaitable[Any]]) -> Any:
    began = time.monotonic()
    result = await step()
    print(f"    {what}: {time.monotonic() - began:.1f} s", flush=True)
    return result


async def measure(name: str, options: list[str], stored: int, seconds: float) -> dict[str, Any]:
    print(f"==> {name}", flush=True)
    now = datetime.now(UTC)
    row: dict[str, Any] = {"variant": name}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "s8.mv", options)
        row["start empty s"] = store.start()
        try:
            mongo = store.client()
            col = mongo.bench.tickets
            await prepare(col)
            await fill(col, 0, 1000, now)
            await op_mix(col, min(seconds, 3.0), 30_000_000, now)  # warm-up: the JIT, the caches
            row["query 1k ms"] = await point_query_ms(col)
            row["mix 1k ops/s"] = await op_mix(col, seconds, 10_000_000, now)
            await timed(f"storing {stored} documents", lambda: fill(col, 1000, stored, now))
            row["query big ms"] = await point_query_ms(col)
            row["mix big ops/s"] = await op_mix(col, seconds, 20_000_000, now)
            row["rss MB"] = store.rss_mb()
            await mongo.close()
            store.stop()
            row["disk MB"] = store.path.stat().st_size / 1e6
            row["start big s"] = store.start()
            lost, acked = await lost_on_kill(store)
            row["lost/acked on kill -9"] = f"{lost}/{acked}"
        finally:
            if store.process and store.process.poll() is None:
                store.kill()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per op-mix measurement")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=JAVA_OPTIONS",
        help="an extra launcher variant, e.g. 'plain=-Ds8.mongo.compress=false'",
    )
    args = parser.parse_args()
    variants = dict(VARIANTS)
    for extra in args.variant:
        name, _, options = extra.partition("=")
        variants[name] = options.split()
    rows = [asyncio.run(measure(n, o, args.stored, args.seconds)) for n, o in variants.items()]
    print(f"\n$ {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"(big = {args.stored} documents; mix ratio = big ÷ 1k)")
    keys = [k for k in rows[0] if k != "variant"]
    print(f"{'':<22}" + "".join(f"{r['variant']:>16}" for r in rows))
    for key in [*keys, "mix ratio"]:
        cells = []
        for r in rows:
            value = r["mix big ops/s"] / r["mix 1k ops/s"] if key == "mix ratio" else r[key]
            cells.append(f"{value:>16.2f}" if isinstance(value, float) else f"{value:>16}")
        print(f"{key:<22}" + "".join(cells))


if __name__ == "__main__":
    main()
