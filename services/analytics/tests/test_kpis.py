"""KPI formulas against hand-computed fixtures (the arithmetic is in the comments)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s8_analytics.domain.kpis import (
    RATE_DEFINITIONS,
    ComplianceResult,
    CsatResult,
    DurationSummary,
    Handling,
    NpsResult,
    OpenTicket,
    RateResult,
    SlaOutcome,
    SolvedTicket,
    age_bucket,
    aht,
    backlog,
    csat,
    fcr,
    nps,
    rate,
    sla_compliance,
)

T0 = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


# --- CSAT -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratings", "sent", "expected"),
    [
        # empty window, nothing sent: both percentages are "no data"
        ([], 0, CsatResult(0, 0, None, None)),
        # surveys sent but none answered: CSAT unknown, response rate 0/4 = 0%
        ([], 4, CsatResult(0, 0, None, 0.0)),
        # answers but 0 sent (sent before the window): CSAT 3/3 = 100%, response rate None
        ([5, 5, 4], 0, CsatResult(3, 3, 100.0, None)),
        # one of each: satisfied = {5, 4} = 2 → 2/5 = 40%; response rate 5/10 = 50%
        ([5, 4, 3, 2, 1], 10, CsatResult(5, 2, 40.0, 50.0)),
        # 3s are neutral, not satisfied: 0/3 = 0%; 3/3 = 100%
        ([3, 3, 3], 3, CsatResult(3, 0, 0.0, 100.0)),
        # satisfied = {4, 4, 5} = 3 → 3/4 = 75%; 4/8 = 50%
        ([4, 4, 3, 5], 8, CsatResult(4, 3, 75.0, 50.0)),
    ],
)
def test_csat(ratings: list[int], sent: int, expected: CsatResult) -> None:
    assert csat(ratings, sent) == expected


def test_csat_percentages_are_not_rounded() -> None:
    # satisfied = {4} = 1 of 3 → 33.33…%; 3 of 9 sent → 33.33…%
    result = csat([4, 1, 2], 9)
    assert result.percent == pytest.approx(100 / 3)
    assert result.response_rate == pytest.approx(100 / 3)


@pytest.mark.parametrize(("ratings", "sent"), [([0], 1), ([6], 1), ([5, -1], 2), ([5], -1)])
def test_csat_rejects_invalid_input(ratings: list[int], sent: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        csat(ratings, sent)


# --- NPS ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([], NpsResult(0, 0, 0, 0, None)),
        # all passives: 0% − 0% = 0
        ([7, 8, 7, 8], NpsResult(4, 0, 4, 0, 0.0)),
        # all promoters: 100% − 0% = 100
        ([9, 10], NpsResult(2, 2, 0, 0, 100.0)),
        # all detractors (0 and 6 are the bounds): 0% − 100% = −100
        ([0, 6, 3], NpsResult(3, 0, 0, 3, -100.0)),
        # promoters {10, 9, 10, 9} = 4, passives {8, 7, 7} = 3, detractors {6, 0, 5} = 3
        # → 40% − 30% = 10
        ([10, 9, 8, 7, 6, 0, 10, 9, 5, 7], NpsResult(10, 4, 3, 3, 10.0)),
        # 3 promoters, 1 detractor of 4 → 75% − 25% = 50
        ([10, 10, 10, 6], NpsResult(4, 3, 0, 1, 50.0)),
        # passives count in the denominator: 1 promoter of 4 → 25% − 0% = 25
        ([9, 7, 8, 8], NpsResult(4, 1, 3, 0, 25.0)),
    ],
)
def test_nps(scores: list[int], expected: NpsResult) -> None:
    assert nps(scores) == expected


@pytest.mark.parametrize("bad", [-1, 11])
def test_nps_rejects_out_of_range_scores(bad: int) -> None:
    with pytest.raises(ValueError, match=r"0\.\.10"):
        nps([9, bad])


@settings(max_examples=200)
@given(st.lists(st.integers(min_value=0, max_value=10), max_size=60))
def test_nps_is_promoter_share_minus_detractor_share(scores: list[int]) -> None:
    result = nps(scores)
    assert result.promoters + result.passives + result.detractors == result.responses
    if not scores:
        assert result.score is None
        return
    assert result.score is not None
    assert -100.0 <= result.score <= 100.0
    promoters_pct = 100 * sum(s >= 9 for s in scores) / len(scores)
    detractors_pct = 100 * sum(s <= 6 for s in scores) / len(scores)
    assert result.score == pytest.approx(promoters_pct - detractors_pct)


# --- Generic rates --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "percent"),
    [
        (0, 0, None),  # empty window
        (0, 5, 0.0),
        (3, 4, 75.0),  # 3/4 = 0.75
        (5, 5, 100.0),
        # proactive contact rate: 2 proactive ÷ (2 proactive + 6 inbound) = 2/8 = 25%
        (2, 2 + 6, 25.0),
    ],
)
def test_rate(numerator: int, denominator: int, percent: float | None) -> None:
    assert rate(numerator, denominator) == RateResult(numerator, denominator, percent)


@pytest.mark.parametrize(("numerator", "denominator"), [(-1, 3), (1, -3)])
def test_rate_rejects_negative_counts(numerator: int, denominator: int) -> None:
    with pytest.raises(ValueError, match=">= 0"):
        rate(numerator, denominator)


def test_rate_definitions_cover_every_rate_with_one_sentence() -> None:
    assert set(RATE_DEFINITIONS) == {
        "handoff_rate",
        "transfer_rate",
        "reopen_rate",
        "faq_deflection_rate",
        "proactive_contact_rate",
    }
    for definition in RATE_DEFINITIONS.values():
        assert definition.endswith(".")
        assert definition.count(". ") == 0
        assert "÷" in definition


# --- FCR ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("solved", "expected"),
    [
        ([], RateResult(0, 0, None)),
        # only FAQ-deflected / auto-closed tickets (0 replies): excluded → 0/0
        ([SolvedTicket(0, False), SolvedTicket(0, True)], RateResult(0, 0, None)),
        # one-touch {1st, 2nd}; 2 replies and the reopened one fail; two 0-reply tickets
        # excluded → 2 / 4 = 50%
        (
            [
                SolvedTicket(1, False),
                SolvedTicket(1, False),
                SolvedTicket(2, False),
                SolvedTicket(1, True),
                SolvedTicket(0, False),
                SolvedTicket(0, False),
            ],
            RateResult(2, 4, 50.0),
        ),
        # all one-touch → 3/3 = 100%
        ([SolvedTicket(1, False)] * 3, RateResult(3, 3, 100.0)),
        # reopened one-touch does not count: 0/1 = 0%
        ([SolvedTicket(1, True)], RateResult(0, 1, 0.0)),
    ],
)
def test_fcr(solved: list[SolvedTicket], expected: RateResult) -> None:
    assert fcr(solved) == expected


def test_fcr_rejects_negative_replies() -> None:
    with pytest.raises(ValueError, match="agent_replies"):
        fcr([SolvedTicket(-1, False)])


# --- AHT ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handlings", "expected"),
    [
        ([], DurationSummary(0, None, None, None)),
        # 2 h with no pause = 7200 s
        ([Handling(T0, T0 + timedelta(hours=2))], DurationSummary(1, 7200.0, 7200.0, 7200.0)),
        # 3600 − 600 paused = 3000; 1800 − 2400 = −600 → floored to 0; 7200 − 0 = 7200
        # sorted [0, 3000, 7200]: median 3000, p90 rank ⌈2.7⌉ = 3 → 7200,
        # average 10200 / 3 = 3400
        (
            [
                Handling(T0, T0 + timedelta(hours=1), 600),
                Handling(T0, T0 + timedelta(minutes=30), 2400),
                Handling(T0, T0 + timedelta(hours=2), 0),
            ],
            DurationSummary(3, 3000.0, 7200.0, 3400.0),
        ),
        # solved before assigned (clock skew): −60 s → floored to 0
        ([Handling(T0, T0 - timedelta(minutes=1))], DurationSummary(1, 0.0, 0.0, 0.0)),
    ],
)
def test_aht(handlings: list[Handling], expected: DurationSummary) -> None:
    assert aht(handlings) == expected


def test_aht_rejects_negative_pause() -> None:
    with pytest.raises(ValueError, match="paused_seconds"):
        aht([Handling(T0, T0 + timedelta(hours=1), -1)])


# --- SLA compliance -------------------------------------------------------------------


def test_sla_compliance_per_target() -> None:
    outcomes = [
        SlaOutcome("first_response", breached=False),
        SlaOutcome("resolution", breached=True),
        SlaOutcome("first_response", breached=False),
        SlaOutcome("first_response", breached=True),
        SlaOutcome("resolution", breached=False),
        SlaOutcome("first_response", breached=False),
        SlaOutcome("first_response", breached=True, cancelled=True),
        SlaOutcome("next_response", breached=False, cancelled=True),
    ]
    assert sla_compliance(outcomes) == {
        # 3 met, 1 breached (the cancelled one is ignored) → 3/4 = 75%
        "first_response": ComplianceResult(met=3, breached=1, percent=75.0),
        # only cancelled clocks → 0/0 → None
        "next_response": ComplianceResult(met=0, breached=0, percent=None),
        # 1 met, 1 breached → 1/2 = 50%
        "resolution": ComplianceResult(met=1, breached=1, percent=50.0),
    }
    assert list(sla_compliance(outcomes)) == ["first_response", "next_response", "resolution"]


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([], {}),
        ([SlaOutcome("resolution", False)], {"resolution": ComplianceResult(1, 0, 100.0)}),
        ([SlaOutcome("resolution", True)], {"resolution": ComplianceResult(0, 1, 0.0)}),
    ],
)
def test_sla_compliance_edge_cases(
    outcomes: list[SlaOutcome], expected: dict[str, ComplianceResult]
) -> None:
    assert sla_compliance(outcomes) == expected


# --- Backlog --------------------------------------------------------------------------

NOW = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age", "bucket"),
    [
        (timedelta(0), "<1h"),
        (timedelta(minutes=59, seconds=59), "<1h"),
        (timedelta(hours=1), "1-4h"),  # lower bound inclusive
        (timedelta(hours=4) - timedelta(seconds=1), "1-4h"),
        (timedelta(hours=4), "4-24h"),
        (timedelta(hours=24) - timedelta(seconds=1), "4-24h"),
        (timedelta(hours=24), "1-3d"),
        (timedelta(hours=72) - timedelta(seconds=1), "1-3d"),
        (timedelta(hours=72), "3-7d"),
        (timedelta(hours=168) - timedelta(seconds=1), "3-7d"),
        (timedelta(hours=168), ">7d"),
        (timedelta(days=400), ">7d"),
        (timedelta(minutes=-5), "<1h"),  # created "in the future" by clock skew
    ],
)
def test_backlog_age_buckets_at_exact_edges(age: timedelta, bucket: str) -> None:
    assert age_bucket(age) == bucket
    assert backlog([OpenTicket("open", "normal", NOW - age)], NOW).by_age[bucket] == 1


def test_backlog_counts_by_status_priority_and_age() -> None:
    tickets = [
        OpenTicket("open", "urgent", NOW - timedelta(minutes=10)),  # <1h
        OpenTicket("pending", "normal", NOW - timedelta(hours=1)),  # 1-4h (edge)
        OpenTicket("open", "normal", NOW - timedelta(hours=5)),  # 4-24h
        OpenTicket("on_hold", "low", NOW - timedelta(days=8)),  # >7d
        OpenTicket("open", "normal", NOW - timedelta(days=7)),  # >7d (edge)
    ]
    result = backlog(tickets, NOW)
    assert result.total == 5
    assert result.by_status == {"on_hold": 1, "open": 3, "pending": 1}
    assert result.by_priority == {"low": 1, "normal": 3, "urgent": 1}
    assert result.by_age == {"<1h": 1, "1-4h": 1, "4-24h": 1, "1-3d": 0, "3-7d": 0, ">7d": 2}
    assert list(result.by_age) == ["<1h", "1-4h", "4-24h", "1-3d", "3-7d", ">7d"]


def test_empty_backlog_keeps_every_age_bucket() -> None:
    result = backlog([], NOW)
    assert result.total == 0
    assert result.by_status == {}
    assert result.by_priority == {}
    assert result.by_age == {"<1h": 0, "1-4h": 0, "4-24h": 0, "1-3d": 0, "3-7d": 0, ">7d": 0}
