"""`make bench-desk`'s pure parts: reading the desk's SSE wire format as a browser does, the
latency table's figures, and the desk's delivery histogram read back from /metrics."""

import json
import math
from datetime import UTC, datetime

import pytest
from bench_desk_report import (
    Histogram,
    Readings,
    SseEvent,
    SseParser,
    follow_up,
    from_records,
    goal_met,
    histogram,
    histogram_result,
    latency_summary,
    quantile,
    sample_sum,
)
from procs import MODULES, SERVICES
from sse_starlette import ServerSentEvent
from stack import SERVICES as RUN_SERVICES
from traffic import TrafficGenerator

from s8_shared.contracts.inbound import parse_inbound


def read(wire: bytes) -> tuple[list[SseEvent], SseParser]:
    """Every event of `wire`, split into lines as httpx's aiter_lines splits them."""
    parser = SseParser()
    events = [e for line in wire.decode().splitlines() if (e := parser.line(line)) is not None]
    return events, parser


def test_the_desks_events_and_pings_are_read_as_a_browser_reads_them() -> None:
    wire = (
        ServerSentEvent(data='{"seq": 7, "kind": "assigned"}', id="7", event="assigned").encode()
        + ServerSentEvent(comment="ping - 2026-12-04 12:00:00").encode()  # sse-starlette's ping
        + ServerSentEvent(data="line one\nline two", id="8", event="customer_answered").encode()
    )
    events, parser = read(wire)
    assert events == [
        SseEvent("7", "assigned", '{"seq": 7, "kind": "assigned"}'),
        SseEvent("8", "customer_answered", "line one\nline two"),
    ]
    assert parser.last_id == "8"  # what a reconnect sends as Last-Event-ID


def test_an_event_without_a_type_is_a_message_and_keeps_the_last_id() -> None:
    events, _ = read(b"id: 3\nevent: assigned\ndata: a\n\ndata:b\n\nid: 4\n\n")
    assert events == [SseEvent("3", "assigned", "a"), SseEvent("3", "message", "b")]


def test_an_id_or_type_without_data_sends_nothing_and_does_not_leak_into_the_next() -> None:
    parser = SseParser()
    for line in ("id: 9", "event: offered", ""):
        assert parser.line(line) is None
    assert parser.last_id == "9"
    assert [parser.line(line) for line in ("data: x", "")] == [None, SseEvent("9", "message", "x")]


def test_a_notice_counts_once_per_agent_from_its_events_time_to_its_reading() -> None:
    readings = Readings()
    notice = SseEvent("5", "assigned", json.dumps({"seq": 5, "at": "2026-12-04T12:00:00.000000Z"}))
    read_at = datetime(2026, 12, 4, 12, 0, 0, 250_000, tzinfo=UTC)
    readings.add("lan", notice, read_at)
    readings.add("lan", notice, read_at)  # replayed after a reconnect
    readings.add("minh", notice, read_at)
    assert readings.samples == [("assigned", 250.0), ("assigned", 250.0)]


def test_a_notice_is_timed_from_the_kafka_record_of_the_event_that_caused_it() -> None:
    readings = Readings()
    at = "2026-12-04T12:00:00.000000Z"  # the customer's message as sent
    read_at = datetime(2026, 12, 4, 12, 0, 2, tzinfo=UTC)
    for seq, event_id in (("1", "e-1"), ("2", "e-2"), ("3", None)):
        data = json.dumps({"seq": int(seq), "at": at, "event_id": event_id})
        readings.add("lan", SseEvent(seq, "customer_answered", data), read_at)
    published = {"e-1": read_at.timestamp() - 0.3, "e-9": 0.0}  # e-2 never seen on the topics
    samples, unmatched = from_records(readings.reads, published)
    assert [(kind, round(ms)) for kind, ms in samples] == [("customer_answered", 300)]
    assert unmatched == 2
    readings.clear()
    assert (readings.samples, readings.reads) == ([], [])


def test_a_follow_up_answers_an_email_or_continues_a_chat_and_is_a_valid_message() -> None:
    generator = TrafficGenerator(seed=1)
    firsts: dict[str, bytes] = {}
    while len(firsts) < 2:
        out = generator.next()
        msg = json.loads(out.value) if out.kind == "message" else {}
        if msg.get("channel") in ("email", "live_chat") and "headers" not in msg:
            firsts[msg["channel"]] = out.value
    mail = json.loads(follow_up(firsts["email"], 3) or b"")
    parent = json.loads(firsts["email"])["channel_message_id"]
    assert (mail["in_reply_to"], mail["references"]) == (parent, [parent])
    assert mail["channel_message_id"] not in (parent, json.loads(follow_up(firsts["email"], 4) or b"")["channel_message_id"])  # fmt: skip
    chat = json.loads(follow_up(firsts["live_chat"], 3) or b"")
    assert chat["session_id"] == json.loads(firsts["live_chat"])["session_id"]
    for again in (mail, chat):
        parse_inbound(again)  # intake would take it
        assert datetime.fromisoformat(again["received_at"]).tzinfo is not None  # stamped now
    assert follow_up(json.dumps({"channel": "sms", "text": "x"}).encode(), 1) is None


def test_latencies_are_summarised_overall_and_by_kind() -> None:
    samples = [("assigned", float(ms)) for ms in range(1, 101)] + [("sla_warning", 2_000.0)]
    summary = latency_summary(samples)
    assert summary["all"]["n"] == 101
    assert summary["all"]["max"] == 2_000.0
    assigned = summary["by_kind"]["assigned"]
    assert (assigned["n"], round(assigned["p50"]), round(assigned["p99"])) == (100, 50, 99)
    assert summary["by_kind"]["sla_warning"] == {"n": 1, "p50": 2_000.0, "p95": 2_000.0, "p99": 2_000.0, "max": 2_000.0}  # fmt: skip


def test_the_goal_is_a_p99_under_one_second_and_no_notice_is_not_met() -> None:
    assert goal_met(latency_summary([("assigned", 100.0)] * 99 + [("assigned", 900.0)]))
    assert not goal_met(latency_summary([("assigned", 100.0)] * 90 + [("assigned", 1_500.0)] * 10))  # fmt: skip
    assert not goal_met(latency_summary([]))


METRICS = """# HELP s8_desk_notice_delivery_seconds From the event that caused a notice to its push.
# TYPE s8_desk_notice_delivery_seconds histogram
s8_desk_notice_delivery_seconds_bucket{le="0.05"} 10.0
s8_desk_notice_delivery_seconds_bucket{le="0.1"} 40.0
s8_desk_notice_delivery_seconds_bucket{le="0.25"} 90.0
s8_desk_notice_delivery_seconds_bucket{le="0.5"} 98.0
s8_desk_notice_delivery_seconds_bucket{le="1.0"} 99.0
s8_desk_notice_delivery_seconds_bucket{le="2.5"} 100.0
s8_desk_notice_delivery_seconds_bucket{le="+Inf"} 100.0
s8_desk_notice_delivery_seconds_count 100.0
s8_desk_notice_delivery_seconds_sum 15.0
# HELP s8_desk_notices_total Notices pushed to open streams.
# TYPE s8_desk_notices_total counter
s8_desk_notices_total{kind="assigned"} 60.0
s8_desk_notices_total{kind="customer_answered"} 40.0
"""


def test_the_histogram_and_counters_are_read_from_the_metrics_page() -> None:
    h = histogram(METRICS)
    assert (h.count, h.sum, h.buckets[math.inf], h.buckets[0.1]) == (100.0, 15.0, 100.0, 40.0)
    assert sample_sum(METRICS, "s8_desk_notices_total") == 100.0


def test_quantiles_interpolate_within_a_bucket_as_prometheus_does() -> None:
    h = histogram(METRICS)
    assert quantile(h, 0.5) == pytest.approx(0.1 + 0.15 * (10 / 50))  # rank 50 of 40..90
    assert quantile(h, 0.99) == pytest.approx(1.0)  # rank 99: the top of the 0.5..1 bucket
    assert quantile(Histogram({1.0: 1.0, math.inf: 2.0}), 0.99) == 1.0  # in +Inf: highest bound
    assert quantile(Histogram({}), 0.5) is None


def test_the_cross_check_covers_only_what_was_observed_between_two_scrapes() -> None:
    before = Histogram({0.05: 5.0, 1.0: 5.0, math.inf: 5.0}, sum=0.1, count=5.0)
    result = histogram_result(histogram(METRICS).minus(before))
    assert result["n"] == 95
    assert result["mean_ms"] == pytest.approx(14.9 / 95 * 1000, abs=0.1)
    assert result["within_1s"] == pytest.approx(94 / 95, abs=1e-4)
    assert histogram_result(Histogram({})) == {"n": 0, "mean_ms": None, "p50_ms": None, "p99_ms": None, "within_1s": None}  # fmt: skip


def test_the_desk_has_make_runs_port_slot_and_the_five_keep_theirs() -> None:
    assert SERVICES == ("s8_intake", "s8_router", "s8_sla_monitor", "s8_survey", "s8_analytics")
    run_slots = {module: port - 8000 for _, module, port in RUN_SERVICES}
    assert {module: i + 1 for i, module in enumerate(MODULES)} == run_slots
