"""`make bench`: s8's throughput, latency and cost per ticket, against raw Kafka in the same run.

Starts its own Kafka and store (infra.sh under .local/bench, ports 29092/29093 and 28017, so
`make run` may run beside it) and, for each part below, a fresh stack (topics, databases, the
five services on ports 28101-28105, the demo roster online):

1. the baseline: raw aiokafka produce + consume on the same broker, batched and awaited per send;
2. a burst of N new tickets (default 5,000) at once: tickets per second through each stage
   (`ticket.created`, routing decision, `sla.clock_started`, analytics' count), store commands,
   CPU per ticket and RSS per service; then a storm of bad messages: dead letters per second;
3. offered rates (default 20, 100 and 300 messages/s for 20 s each, then at most 60 s to drain):
   p50/p95/p99 from publish to `ticket.created` and to the routing decision, whether the pipeline
   keeps up, and the highest rate measured that it keeps up with (a probe at 0.8 x the burst's
   decision rate besides the offered ones);
4. N new tickets on an empty store and on a store holding a history (bench_pipeline.py).

Prints a table (each figure with the previous run's), the command and, last, the ratios against
issue 18's goals; JSON under .local/bench/bench-<time>.json.

  .venv/bin/python deploy/local/bench.py [--burst 5000] [--rates 20,100,300] [--stored 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench_pipeline
import bench_raw
from bench_report import burst_result, keeps_up, previous, print_report, rate_result, ratios
from bench_stages import batch, measure, stack
from fuzz_topics import storm
from procs import REPO, LocalInfra

from s8_shared import topics

LOCAL = REPO / ".local" / "bench"


async def burst(args: argparse.Namespace, result: dict[str, Any]) -> float | None:
    """The burst and the dead-letter storm; returns the burst's decisions per second."""
    print(f"==> burst of {args.burst:,} new tickets", flush=True)
    async with stack(args.infra, "burst", args.port_base, args.ready_timeout, args.replicas) as s:
        before = await asyncio.to_thread(s.service_stats)
        m = await measure(s, batch(s.ns[5:13], args.burst), rate=None, within=args.timeout)
        after = await asyncio.to_thread(s.service_stats)
        result["burst"] = burst_result(m, before, after)
        print(f"    {result['burst']['per_s']}", flush=True)
        if args.storm:
            print(f"==> storm of {args.storm:,} bad messages", flush=True)
            stormed = await storm(args.infra.bootstrap, s.ns, args.storm, within=args.timeout, partitions=topics.DEADLETTER.partitions)  # fmt: skip
            result["storm"], result["deadletters_per_s"] = args.storm, stormed and stormed[0]
    return m.per_second("decided")


async def rates(args: argparse.Namespace, result: dict[str, Any], decided_per_s: float | None) -> None:  # fmt: skip
    offered = [float(r) for r in args.rates.split(",") if r]
    probe = round(0.8 * decided_per_s, 1) if decided_per_s else None
    result["rates"] = []
    for rate in [*offered, *([probe] if probe and probe not in offered else [])]:
        n = max(10, round(rate * args.offer_seconds))
        print(f"==> {rate:g} messages/s for {args.offer_seconds:g}s ({n} messages)", flush=True)
        async with stack(
            args.infra, f"r{rate:g}", args.port_base, args.ready_timeout, args.replicas
        ) as s:
            m = await measure(s, batch(s.ns[5:13], n), rate=rate, within=args.drain)
        result["rates"].append(rate_result(m))
        print(f"    keeps up: {keeps_up(m)}, decided p99 {result['rates'][-1]['decided']['p99']} ms", flush=True)  # fmt: skip
    kept = [r["offered_per_s"] for r in result["rates"] if r["keeps_up"]]
    result["sustainable_per_s"] = max(kept) if kept else None


async def stored(args: argparse.Namespace, result: dict[str, Any]) -> None:
    phase_args = argparse.Namespace(
        bootstrap=args.infra.bootstrap, mongo_uri=args.infra.mongo_uri, infra=args.infra,
        port_base=args.port_base, ready_timeout=args.ready_timeout, tickets=args.stored_tickets,
        timeout=args.timeout, resume=None, keep=False,
    )  # fmt: skip
    empty = await bench_pipeline.run_phase("empty", 0, phase_args)
    full = await bench_pipeline.run_phase("stored", args.stored, phase_args)
    result["stored"] = {
        "n": args.stored_tickets,
        "stored": args.stored,
        "empty_per_s": round(empty.n / empty.seconds, 2),
        "stored_per_s": round(full.n / full.seconds, 2),
        "ratio": round(empty.seconds / full.seconds, 3),
    }


async def run(args: argparse.Namespace, result: dict[str, Any]) -> None:
    print("==> baseline: raw aiokafka", flush=True)
    bootstrap = args.infra.bootstrap
    batched = await bench_raw.run_phase(bootstrap, args.raw, 636, awaited=False)
    awaited = await bench_raw.run_phase(bootstrap, 2000, 636, awaited=True)
    result["raw"] = {"batched_per_s": round(batched), "awaited_per_s": round(awaited)}
    print(f"    {result['raw']}", flush=True)
    decided_per_s = await burst(args, result) if args.burst else None
    if args.rates:
        await rates(args, result, decided_per_s)
    if args.stored:
        await stored(args, result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--raw", type=int, default=50_000, help="records of the batched baseline")
    parser.add_argument("--burst", type=int, default=5_000, help="new tickets at once (0: skip)")
    parser.add_argument("--storm", type=int, default=10_000, help="bad messages at once (0: skip)")
    parser.add_argument("--rates", default="20,100,300", help="offered messages/s, comma-separated ('': skip)")  # fmt: skip
    parser.add_argument("--offer-seconds", type=float, default=20)
    parser.add_argument("--drain", type=float, default=60, help="seconds to wait after the last send")  # fmt: skip
    parser.add_argument("--stored", type=int, default=200_000, help="tickets of history (0: skip)")
    parser.add_argument("--stored-tickets", type=int, default=300, help="new tickets per store phase")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=1800, help="seconds a burst may take")
    parser.add_argument("--ready-timeout", type=float, default=600)
    parser.add_argument("--replicas", type=int, default=1, help="processes per service (burst and rates)")  # fmt: skip
    parser.add_argument("--kafka-port", type=int, default=29092)
    parser.add_argument("--mongo-port", type=int, default=28017)
    parser.add_argument("--port-base", type=int, default=28100)
    parser.add_argument("--local", type=Path, default=LOCAL, help="the stack's S8_LOCAL_DIR")
    args = parser.parse_args()
    args.infra = LocalInfra(args.local, args.kafka_port, args.mongo_port)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the finally blocks run
    command = shlex.join([sys.executable, *sys.argv])
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()  # fmt: skip
    result: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "commit": commit, "command": command, "args": sys.argv[1:]}  # fmt: skip
    started = not args.infra.running()
    try:
        args.infra.run("up")
        asyncio.run(run(args, result))
    finally:  # what was measured is kept and shown even when a later part failed
        if started:
            args.infra.run("down")
        result["ratios"] = ratios(result)
        out = LOCAL / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        before = previous(LOCAL, out, result["args"])
        out.write_text(json.dumps(result, indent=2))
        print_report(result, before)


if __name__ == "__main__":
    main()
