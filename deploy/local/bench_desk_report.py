"""`make bench-desk`'s pure parts: a customer's follow-up, reading a Server-Sent Events
stream, the latency summary, the desk's own delivery histogram and the printed table (with
the previous run's figures)."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench_report import flatten, percentiles
from prometheus_client.parser import text_string_to_metric_families

GOAL_P99_MS = 1_000.0  # issue 19: p99 under 1 s from the Kafka event to the browser
HISTOGRAM = "s8_desk_notice_delivery_seconds"


FOLLOW_UP = "Mình vẫn đang chờ phản hồi, shop kiểm tra giúp mình với."


def follow_up(first: bytes, n: int) -> bytes | None:
    """The customer's next message in the conversation `first` opened, stamped now: an e-mail
    answering it or a line in the same chat; None for other channels and auto-replies."""
    msg = json.loads(first)
    if msg.get("channel") == "email" and "headers" not in msg:
        parent = msg["channel_message_id"]
        reply = {"channel": "email", "channel_message_id": parent.replace("@", f".re{n}@", 1)}
        reply.update({"from": msg["from"], "to": msg["to"], "subject": "Re: " + msg["subject"]})
        reply.update(in_reply_to=parent, references=[parent])
    elif msg.get("channel") == "live_chat":
        reply = {**msg, "channel_message_id": f"{msg['channel_message_id']}-{n}"}
    else:
        return None
    reply.update(text=FOLLOW_UP, received_at=datetime.now(UTC).isoformat())
    return json.dumps(reply, ensure_ascii=False).encode()


@dataclass(frozen=True)
class SseEvent:
    id: str | None  # the last id the stream set, as a browser keeps it for Last-Event-ID
    event: str
    data: str


class SseParser:
    """Lines of a `text/event-stream` in (without their line ends), events out: the rules of
    the HTML standard a browser's EventSource applies, so the benchmark reads what it reads."""

    def __init__(self) -> None:
        self.last_id: str | None = None
        self._event = ""
        self._data: list[str] = []

    def line(self, line: str) -> SseEvent | None:
        """The event a blank line completes, else None (comments such as pings included)."""
        if not line:
            if not self._data:  # a blank line after a comment or an id alone sends nothing
                self._event = ""
                return None
            event = SseEvent(self.last_id, self._event or "message", "\n".join(self._data))
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "id" and "\0" not in value:
            self.last_id = value  # kept across events: the id to resume from
        elif name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None


@dataclass(frozen=True)
class Read:
    kind: str
    event_id: str | None  # the event on the topics that caused the notice
    read_at: datetime


@dataclass
class Readings:
    """What the streams read, once per agent and seq: `samples` (kind, ms from the event's
    own time `at` to reading: the whole pipeline) and `reads`, to time from the Kafka record."""

    samples: list[tuple[str, float]] = field(default_factory=list)
    reads: list[Read] = field(default_factory=list)
    seen: set[tuple[str, str]] = field(default_factory=set)
    reconnects: int = 0

    def add(self, agent: str, event: SseEvent, read_at: datetime) -> None:
        if (agent, event.id or "") in self.seen:
            return  # a replay after a reconnect: the browser saw it once
        self.seen.add((agent, event.id or ""))
        notice = json.loads(event.data)
        at = datetime.fromisoformat(notice["at"])
        self.samples.append((event.event, (read_at - at).total_seconds() * 1000))
        self.reads.append(Read(event.event, notice.get("event_id"), read_at))

    def clear(self) -> None:
        self.samples.clear()
        self.reads.clear()


def from_records(reads: list[Read], published: dict[str, float]) -> tuple[list[tuple[str, float]], int]:  # fmt: skip
    """(kind, ms from the Kafka record of the notice's event to its reading) per read whose
    event was seen on the topics (`published`: event id -> record timestamp, epoch seconds),
    and how many reads had none."""
    samples = [(r.kind, (r.read_at.timestamp() - published[r.event_id]) * 1000) for r in reads if r.event_id in published]  # fmt: skip
    return samples, len(reads) - len(samples)


def latency_summary(samples: list[tuple[str, float]]) -> dict[str, Any]:
    """(kind, ms) per notice -> n, p50/p95/p99 and max in ms, for all and per kind."""

    def row(values: list[float]) -> dict[str, float]:
        cuts = percentiles(values)
        return {"n": len(values), **{k: round(v, 1) for k, v in cuts.items()}, "max": round(max(values), 1)}  # fmt: skip

    by_kind: dict[str, list[float]] = defaultdict(list)
    for kind, ms in samples:
        by_kind[kind].append(ms)
    every = [ms for _, ms in samples]
    return {
        "all": row(every) if every else {"n": 0},
        "by_kind": {kind: row(values) for kind, values in sorted(by_kind.items())},
    }


def sample_sum(text: str, name: str) -> float:
    """A counter's or gauge's samples on a /metrics page, summed over their labels."""
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    )


def goal_met(summary: dict[str, Any]) -> bool:
    return bool(summary["all"]["n"]) and summary["all"]["p99"] < GOAL_P99_MS


@dataclass(frozen=True)
class Histogram:
    """A Prometheus histogram as scraped: cumulative counts by upper bound, sum and count."""

    buckets: dict[float, float]
    sum: float = 0.0
    count: float = 0.0

    def minus(self, before: Histogram) -> Histogram:
        """What was observed since `before` (counters only grow)."""
        grown = {le: n - before.buckets.get(le, 0.0) for le, n in self.buckets.items()}
        return Histogram(grown, self.sum - before.sum, self.count - before.count)


def histogram(text: str, name: str = HISTOGRAM) -> Histogram:
    """The histogram `name` from a /metrics page, summed over its label sets."""
    buckets: dict[float, float] = {}
    total = count = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == f"{name}_bucket":
                le = float(s.labels["le"])
                buckets[le] = buckets.get(le, 0.0) + s.value
            elif s.name == f"{name}_sum":
                total += s.value
            elif s.name == f"{name}_count":
                count += s.value
    return Histogram(buckets, total, count)


def quantile(h: Histogram, q: float) -> float | None:
    """Prometheus' histogram_quantile: linear within the bucket the rank falls in; the
    highest finite bound when it falls in +Inf; None without observations."""
    total = h.buckets.get(math.inf, 0.0)
    if total <= 0:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for le in sorted(h.buckets):
        n = h.buckets[le]
        if n >= rank:
            if math.isinf(le):
                return lower
            inside = n - below
            return lower + (le - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = le, n
    return lower


def histogram_result(h: Histogram) -> dict[str, Any]:
    """The desk's own view (event -> push to the stream) of what `h` observed, in ms, and
    the share within 1 s (a bucket bound, so exact)."""
    p50, p99 = quantile(h, 0.5), quantile(h, 0.99)
    return {
        "n": int(h.count),
        "mean_ms": round(h.sum / h.count * 1000, 1) if h.count else None,
        "p50_ms": round(p50 * 1000, 1) if p50 is not None else None,
        "p99_ms": round(p99 * 1000, 1) if p99 is not None else None,
        "within_1s": round(h.buckets.get(1.0, 0.0) / h.count, 4) if h.count else None,
    }


def print_report(result: dict[str, Any], before: dict[str, Any] | None) -> None:
    old = flatten(before) if before else {}

    def cell(key: str, value: float | None) -> str:
        if value is None:
            return "—"
        text = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
        return text + (f" ({old[key]:,.0f})" if key in old else "")

    sent = result.get("sent", {})
    print(f"\n== desk live stream ({result.get('streams', 0)} streams, {sent.get('messages', 0)} messages + {sent.get('follow_ups', 0)} follow-ups at {result['rate']:g}/s for {result['seconds']:g}s)")  # fmt: skip
    if old:
        print("   (the previous run with the same arguments in brackets)")
    tables = [
        ("latency_ms", "Kafka record of the event -> notice read from GET /v1/stream, ms (goal)"),
        ("pipeline_ms", "the event's own time (a message as sent, a decision) -> read, ms"),
    ]
    for key, title in tables:
        lat = result.get(key, {"all": {"n": 0}, "by_kind": {}})
        print(f"\n  {title}")
        print(f"  {'kind':<20}{'n':>12}{'p50':>16}{'p95':>16}{'p99':>16}{'max':>16}")
        for name, row in [("all", lat["all"]), *lat["by_kind"].items()]:
            p = f"{key}.all." if name == "all" else f"{key}.by_kind.{name}."
            cells = [cell(p + k, row.get(k)) for k in ("n", "p50", "p95", "p99", "max")]
            print(f"  {name:<20}" + "".join(f"{c:>16}" if i else f"{c:>12}" for i, c in enumerate(cells)))  # fmt: skip
    lat = result.get("latency_ms", {"all": {"n": 0}})
    p99 = lat["all"].get("p99")
    verdict = "met" if result.get("goal_met") else "NOT met"
    print(f"\n  goal p99 < {GOAL_P99_MS:,.0f} ms from the Kafka event: {verdict} (p99 {'—' if p99 is None else f'{p99:,.1f} ms'}; reads whose event was not seen on the topics: {result.get('unmatched', '—')})")  # fmt: skip
    if h := result.get("desk_histogram"):
        share = h["within_1s"]
        print(f"\n== the desk's {HISTOGRAM} (event -> push), same window: {h['n']:,} observed, mean {cell('desk_histogram.mean_ms', h['mean_ms'])} ms, p50 ≈ {cell('desk_histogram.p50_ms', h['p50_ms'])} ms, p99 ≈ {cell('desk_histogram.p99_ms', h['p99_ms'])} ms (bucket estimates), within 1 s {'—' if share is None else f'{share:.1%}'}")  # fmt: skip
    agents = result.get("agents", {})
    print(f"   notices pushed {result.get('pushed', '—')}, read {result.get('pipeline_ms', lat)['all']['n']}, reconnects {result.get('reconnects', 0)}; agents replied {agents.get('replies', 0)}, solved {agents.get('solved', 0)}, offered compensation {agents.get('offers', 0)}")  # fmt: skip
    print(f"\ncommand: {result['command']}")
