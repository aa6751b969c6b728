"""`make bench`'s arithmetic: stage rates, censored latencies, keeping up, and the ratios line."""

from typing import Any

import pytest
from bench_report import flatten, keeps_up, percentiles, rate_result, ratios
from bench_stages import Measurement


def measured(waits: list[float | None], rate: float = 10.0) -> Measurement:
    """Messages published 1/rate s apart from t=100; `None`: never decided (stopped at t=200)."""
    m = Measurement(len(waits), rate, started=100.0, ended=200.0)
    for i, wait in enumerate(waits):
        ticket, sent = f"T-{i}", 100.0 + i / rate
        m.published[ticket] = sent
        m.seen["created"][ticket] = sent + 0.01
        if wait is not None:
            m.seen["decided"][ticket] = sent + wait
    return m


def test_a_flat_latency_keeps_up() -> None:
    assert keeps_up(measured([0.05] * 50))


def test_a_growing_backlog_does_not_keep_up() -> None:
    assert not keeps_up(measured([0.05 + 0.1 * i for i in range(50)]))


def test_a_message_never_decided_does_not_keep_up_and_counts_as_its_wait_when_stopped() -> None:
    m = measured([0.05] * 49 + [None])
    assert not keeps_up(m)
    waits, missing = m.latencies("decided")
    assert missing == 1
    assert waits[-1] == 200.0 - (100.0 + 49 / 10)
    assert rate_result(m)["decided"]["missing"] == 1


def test_a_stage_rate_is_n_over_the_time_from_the_first_send_to_the_last_arrival() -> None:
    m = measured([1.0] * 10)  # the last sent at 100.9, decided at 101.9
    assert m.per_second("decided") == pytest.approx(10 / 1.9)
    assert measured([1.0] * 9 + [None]).per_second("decided") is None


def test_percentiles_of_one_hundred_waits() -> None:
    cuts = percentiles([float(i) for i in range(1, 101)])
    assert (round(cuts["p50"]), round(cuts["p95"]), round(cuts["p99"])) == (50, 95, 99)


def test_the_pipeline_ratio_is_its_slowest_stage_against_raw_kafka_batched() -> None:
    result: dict[str, Any] = {
        "raw": {"batched_per_s": 10_000, "awaited_per_s": 500},
        "burst": {
            "per_s": {"created": 400.0, "decided": 250.0, "clocked": 300.0, "counted": 390.0}
        },
        "rates": [{"offered_per_s": 100.0, "decided": {"p99": 180.0}}],
        "stored": {"ratio": 0.85},
        "deadletters_per_s": 1200,
    }
    assert ratios(result) == {
        "pipeline_vs_raw": 0.025,
        "p99_decided_ms_at_100": 180.0,
        "stored_vs_empty": 0.85,
        "deadletters_per_s": 1200,
    }
    result["burst"]["per_s"]["counted"] = None  # a stage that never completed: no ratio
    assert ratios(result)["pipeline_vs_raw"] is None


def test_the_previous_run_is_compared_figure_by_figure() -> None:
    flat = flatten({"raw": {"batched_per_s": 5}, "rates": [{"offered_per_s": 20.0, "decided": {"p99": 7}}], "keeps_up": True})  # fmt: skip
    assert flat == {"raw.batched_per_s": 5.0, "rates.20.0.offered_per_s": 20.0, "rates.20.0.decided.p99": 7.0}  # fmt: skip


def test_the_run_arguments_are_not_figures() -> None:
    flat = flatten({"args": ["--burst", "600"], "raw": {"batched_per_s": 5}})
    assert flat == {"raw.batched_per_s": 5.0}
