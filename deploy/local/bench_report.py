"""`make bench`'s table, its JSON under .local/bench/ and the comparison with the previous run."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from bench_stages import Measurement

GOALS = {  # issue 18's targets, each a ratio or a figure measured in the same run
    "pipeline_vs_raw": (">=", 0.02),
    "p99_decided_ms_at_100": ("<", 250.0),
    "stored_vs_empty": (">=", 0.8),
    "deadletters_per_s": (">=", 1000.0),
}


def percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50": values[0] if values else 0.0, "p95": values[0] if values else 0.0, "p99": values[0] if values else 0.0}  # fmt: skip
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98]}


def keeps_up(m: Measurement) -> bool:
    """Every message decided, and the last fifth waited no longer than twice the first fifth
    (+0.25 s): a backlog that grows is not sustainable."""
    waits, missing = m.latencies("decided")
    if missing or len(waits) < 10:
        return False
    fifth = len(waits) // 5
    return statistics.median(waits[-fifth:]) <= 2 * statistics.median(waits[:fifth]) + 0.25


def rate_result(m: Measurement) -> dict[str, Any]:
    out: dict[str, Any] = {"offered_per_s": m.offered_per_s, "n": m.n, "keeps_up": keeps_up(m)}
    for stage in ("created", "decided"):
        waits, missing = m.latencies(stage)
        out[stage] = {k: round(v * 1000, 1) for k, v in percentiles(waits).items()} | {"missing": missing}  # fmt: skip
    return out


def burst_result(m: Measurement, before: dict[str, dict[str, float]], after: dict[str, dict[str, float]]) -> dict[str, Any]:  # fmt: skip
    services = {
        module.removeprefix("s8_"): {
            "commands_per_ticket": round((after[module]["commands"] - before[module]["commands"]) / m.n, 2),
            "cpu_ms_per_ticket": round((after[module]["cpu_s"] - before[module]["cpu_s"]) * 1000 / m.n, 2),
            "rss_mb": round(after[module]["rss_mb"], 1),
            "commands_by_name": _per_ticket(m, "command.", before[module], after[module]),
            "commands_by_collection": _per_ticket(m, "on.", before[module], after[module]),
        }
        for module in after
    }  # fmt: skip
    stages = {s: (round(v, 1) if (v := m.per_second(s)) is not None else None) for s in ("created", "decided", "clocked", "counted")}  # fmt: skip
    return {"n": m.n, "per_s": stages, "services": services}


def _per_ticket(m: Measurement, prefix: str, before: dict[str, float], after: dict[str, float]) -> dict[str, float]:  # fmt: skip
    """The counters named `prefix...` that grew, per ticket."""
    return {
        k.removeprefix(prefix): round((v - before.get(k, 0.0)) / m.n, 2)
        for k, v in after.items()
        if k.startswith(prefix) and v > before.get(k, 0.0)
    }


def ratios(result: dict[str, Any]) -> dict[str, float | None]:
    burst, raw = result.get("burst"), result.get("raw")
    at_100 = next((r for r in result.get("rates", []) if r["offered_per_s"] == 100), None)
    stored = result.get("stored")
    slowest = min((v for v in burst["per_s"].values() if v is not None), default=None) if burst else None  # fmt: skip
    complete = burst and all(v is not None for v in burst["per_s"].values())
    return {
        "pipeline_vs_raw": (
            round(slowest / raw["batched_per_s"], 5) if complete and raw and slowest else None
        ),
        "p99_decided_ms_at_100": at_100["decided"]["p99"] if at_100 else None,
        "stored_vs_empty": stored["ratio"] if stored else None,
        "deadletters_per_s": result.get("deadletters_per_s"),
    }


def flatten(tree: Any, prefix: str = "") -> dict[str, float]:
    if isinstance(tree, dict):
        out: dict[str, float] = {}
        for k, v in tree.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    if isinstance(tree, list):
        items = [item for item in tree if isinstance(item, dict)]  # not the run's arguments
        return flatten({str(item.get("offered_per_s", i)): item for i, item in enumerate(items)}, prefix)  # fmt: skip
    if isinstance(tree, (int, float)) and not isinstance(tree, bool):
        return {prefix.rstrip("."): float(tree)}
    return {}


def previous(directory: Path, current: Path, args: list[str], pattern: str = "bench-*.json") -> dict[str, Any] | None:  # fmt: skip
    """The latest earlier run with the same arguments (other sizes are not comparable)."""
    for path in sorted((p for p in directory.glob(pattern) if p != current), reverse=True):
        run = json.loads(path.read_text())
        if run.get("args") == args:
            return dict(run)
    return None


def print_report(result: dict[str, Any], before: dict[str, Any] | None) -> None:
    old = flatten(before) if before else {}

    def cell(key: str, value: float | None, unit: str = "") -> str:
        if value is None:
            return "—"
        text = f"{value:,.1f}{unit}" if isinstance(value, float) else f"{value:,}{unit}"
        if key in old:
            text += f" (was {old[key]:,.1f})"
        return text

    raw = result.get("raw", {})
    print("\n== baseline: raw aiokafka on the same broker")
    print(f"  batched {cell('raw.batched_per_s', raw.get('batched_per_s'), '/s')}, awaited per send {cell('raw.awaited_per_s', raw.get('awaited_per_s'), '/s')}")  # fmt: skip
    if burst := result.get("burst"):
        print(
            f"\n== burst of {burst['n']:,} new tickets at once: tickets per second through each stage"
        )
        for stage, v in burst["per_s"].items():
            print(f"  {stage:<10}{cell(f'burst.per_s.{stage}', v, '/s')}")
        print(
            f"\n  {'service':<12}{'store commands/ticket':>30}{'CPU ms/ticket':>28}{'RSS MB':>24}"
        )
        for name, s in burst["services"].items():
            p = f"burst.services.{name}."
            print(f"  {name:<12}{cell(p + 'commands_per_ticket', s['commands_per_ticket']):>30}{cell(p + 'cpu_ms_per_ticket', s['cpu_ms_per_ticket']):>28}{cell(p + 'rss_mb', s['rss_mb']):>24}")  # fmt: skip
            if s["commands_by_name"]:
                print(f"  {'':<12}{', '.join(f'{k} {v:g}' for k, v in sorted(s['commands_by_name'].items()))}")  # fmt: skip
            if top := sorted(s.get("commands_by_collection", {}).items(), key=lambda kv: -kv[1]):
                print(f"  {'':<12}by collection: {', '.join(f'{k} {v:g}' for k, v in top)}")  # fmt: skip
    if rates := result.get("rates"):
        print("\n== latency from publish, ms (p50 / p95 / p99), at offered rates")
        for r in rates:
            p = f"rates.{r['offered_per_s']}."
            for stage in ("created", "decided"):
                d = r[stage]
                lost = f", {d['missing']} not there when stopped (counted as their wait)" if d["missing"] else ""  # fmt: skip
                print(f"  {r['offered_per_s']:>6.0f}/s {'→ ' + stage:<11} {cell(p + stage + '.p50', d['p50'])} / {cell(p + stage + '.p95', d['p95'])} / {cell(p + stage + '.p99', d['p99'])}{lost}")  # fmt: skip
            print(f"  {'':>8} keeps up: {'yes' if r['keeps_up'] else 'no'}")
        print(f"  highest sustainable rate measured: {cell('sustainable_per_s', result.get('sustainable_per_s'), '/s')}")  # fmt: skip
    if stored := result.get("stored"):
        print(f"\n== {stored['n']} new tickets on an empty store and on one holding {stored['stored']:,} tickets")  # fmt: skip
        print(f"  empty {cell('stored.empty_per_s', stored['empty_per_s'], '/s')}, stored {cell('stored.stored_per_s', stored['stored_per_s'], '/s')}")  # fmt: skip
    if result.get("deadletters_per_s") is not None:
        print(f"\n== dead letters: {cell('deadletters_per_s', result['deadletters_per_s'], '/s')} (storm of {result['storm']:,} bad messages)")  # fmt: skip
    print(f"\ncommand: {result['command']}")
    parts = []
    for key, value in result["ratios"].items():
        op, goal = GOALS[key]
        met = value is not None and (value >= goal if op == ">=" else value < goal)
        parts.append(f"{key} {'—' if value is None else f'{value:g}'} (goal {op} {goal:g}: {'met' if met else 'NOT met'})")  # fmt: skip
    print("ratios: " + "; ".join(parts))
