"""Intake's liveness while it processes a barrage of the worst inputs the contracts accept.

Intake runs as a process on the real broker and store; the corpus's costliest messages
(bench_cpu.py), each under its own message id, are posted to its webhook by 8 concurrent
senders while a probe asks `/healthz` every 20 ms. Prints the probe's latency (p50, p99,
max) during the barrage against the goal (max under 100 ms: the CPU work runs off the event
loop), and the webhook's answers.

    python deploy/local/bench_healthz.py [--messages 200]
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import statistics
import sys
import time
import uuid
from collections import Counter
from typing import Any

import httpx
from bench_cpu import CORPUS, cpu_ms
from procs import HOST, REPO, TOKENS, LocalInfra, Services

from s8_shared.kafka.provision import delete_namespace, provision_topics

GOAL_MS = 100.0


async def barrage(port: int, messages: list[dict[str, Any]], senders: int) -> tuple[list[float], Counter[int], float]:  # fmt: skip
    base = f"http://{HOST}:{port}"
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for m in messages:
        queue.put_nowait(m)
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    done = asyncio.Event()

    async def send(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            m = queue.get_nowait()
            system = await TOKENS.headers_for(f"channel-{m['channel'].replace('_', '-')}")
            r = await client.post(f"/v1/inbound/{m['channel']}", json=m, headers=system)
            statuses[r.status_code] += 1

    async def probe() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            while not done.is_set():
                t0 = time.perf_counter()
                (await client.get("/healthz")).raise_for_status()
                latencies.append((time.perf_counter() - t0) * 1000)
                await asyncio.sleep(0.02)

    prober = asyncio.create_task(probe())
    t0 = time.monotonic()
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        await asyncio.gather(*(send(client) for _ in range(senders)))
    seconds = time.monotonic() - t0
    done.set()
    await prober
    return latencies, statuses, seconds


async def run(infra: LocalInfra, n: int, senders: int, port_base: int) -> dict[str, Any]:
    worst = sorted(CORPUS.values(), key=lambda m: -cpu_ms(m, 1))[:8]
    messages = []
    for i in range(n):
        m = dict(worst[i % len(worst)])
        m["channel_message_id"] = f"<healthz-{uuid.uuid4().hex[:8]}-{i}@example.vn>" if m["channel"] == "email" else f"healthz-{i}"  # fmt: skip
        messages.append(m)
    ns = f"healthz{uuid.uuid4().hex[:8]}."
    await provision_topics(infra.bootstrap, namespace=ns)
    services = Services(infra, "healthz", ns, port_base, modules=("s8_intake",))
    try:
        await asyncio.to_thread(services.wait_ready, 300)
        latencies, statuses, seconds = await barrage(services.ports["s8_intake"], messages, senders)
    finally:
        services.stop()
        await delete_namespace(infra.bootstrap, ns)
    q = statistics.quantiles(latencies, n=100)
    return {
        "messages": n, "seconds": round(seconds, 1), "webhook_answers": dict(statuses),
        "probes": len(latencies), "p50_ms": round(q[49], 1), "p99_ms": round(q[98], 1),
        "max_ms": round(max(latencies), 1),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--kafka-port", type=int, default=9092)
    parser.add_argument("--mongo-port", type=int, default=27017)
    parser.add_argument("--port-base", type=int, default=31400)
    args = parser.parse_args()
    infra = LocalInfra(REPO / ".local", args.kafka_port, args.mongo_port)
    r = asyncio.run(run(infra, args.messages, args.senders, args.port_base))
    print(f"barrage: {r['messages']} of the worst inputs in {r['seconds']}s, webhook answers {r['webhook_answers']}")  # fmt: skip
    print(f"/healthz during it: {r['probes']} probes, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms (goal: max < {GOAL_MS:.0f} ms)")  # fmt: skip
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")


if __name__ == "__main__":
    main()
