"""Duration statistics and time-slicing helpers against hand-computed fixtures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s8_analytics.domain.stats import DurationSummary, day_buckets, group_by, summary, window

# --- summary --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("durations", "expected"),
    [
        ([], DurationSummary(0, None, None, None)),
        # single value: all statistics are that value
        ([42.0], DurationSummary(1, 42.0, 42.0, 42.0)),
        # two values: median (3 + 7) / 2 = 5; p90 rank ⌈1.8⌉ = 2 → 7; average 10 / 2 = 5
        ([7.0, 3.0], DurationSummary(2, 5.0, 7.0, 5.0)),
        # even count: median (2 + 3) / 2 = 2.5; p90 rank ⌈3.6⌉ = 4 → 4; avg 10 / 4 = 2.5
        ([4.0, 1.0, 3.0, 2.0], DurationSummary(4, 2.5, 4.0, 2.5)),
        # ties at the median, odd count: sorted [1, 5, 5, 5, 9] → median 5;
        # p90 rank ⌈4.5⌉ = 5 → 9; average 25 / 5 = 5
        ([5.0, 9.0, 5.0, 1.0, 5.0], DurationSummary(5, 5.0, 9.0, 5.0)),
        # ties at the median, even count: sorted [2, 4, 4, 10] → (4 + 4) / 2 = 4;
        # p90 rank ⌈3.6⌉ = 4 → 10; average 20 / 4 = 5
        ([4.0, 10.0, 2.0, 4.0], DurationSummary(4, 4.0, 10.0, 5.0)),
        # 10 values 10..100: median (50 + 60) / 2 = 55; p90 rank ⌈9.0⌉ = 9 → 90;
        # average 550 / 10 = 55
        (
            [100.0, 10.0, 90.0, 20.0, 80.0, 30.0, 70.0, 40.0, 60.0, 50.0],
            DurationSummary(10, 55.0, 90.0, 55.0),
        ),
        # 11 values 1..11: median 6 (6th); p90 rank ⌈9.9⌉ = 10 → 10; average 66 / 11 = 6
        ([float(v) for v in range(11, 0, -1)], DurationSummary(11, 6.0, 10.0, 6.0)),
        # 20 values 1..20: median (10 + 11) / 2 = 10.5; p90 rank ⌈18.0⌉ = 18 → 18;
        # average 210 / 20 = 10.5
        ([float(v) for v in range(1, 21)], DurationSummary(20, 10.5, 18.0, 10.5)),
        # all equal: every statistic is that value
        ([3.0] * 7, DurationSummary(7, 3.0, 3.0, 3.0)),
    ],
)
def test_summary(durations: list[float], expected: DurationSummary) -> None:
    assert summary(durations) == expected


def test_summary_accepts_ints() -> None:
    # [1, 2]: median 1.5, p90 rank ⌈1.8⌉ = 2 → 2, average 1.5
    assert summary([1, 2]) == DurationSummary(2, 1.5, 2.0, 1.5)


@settings(max_examples=200)
@given(
    st.lists(
        st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=50,
    )
)
def test_summary_median_and_p90_lie_within_the_data(durations: list[float]) -> None:
    result = summary(durations)
    assert result.median is not None
    assert result.p90 is not None
    assert min(durations) <= result.median <= max(durations)
    assert result.median <= result.p90 <= max(durations)
    assert result.p90 in durations  # nearest rank never interpolates
    # at least 90% of the values are <= p90
    assert 10 * sum(d <= result.p90 for d in durations) >= 9 * len(durations)


# --- group_by / window ----------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    kind: str
    when: datetime


START = datetime(2024, 5, 1, tzinfo=UTC)
END = datetime(2024, 5, 2, tzinfo=UTC)


def test_group_by_keeps_input_order() -> None:
    events = [Event("a", START), Event("b", START), Event("a", END)]
    assert group_by(events, lambda e: e.kind) == {
        "a": [events[0], events[2]],
        "b": [events[1]],
    }
    assert group_by([], lambda e: str(e)) == {}


@pytest.mark.parametrize(
    ("when", "inside"),
    [
        (START - timedelta(microseconds=1), False),
        (START, True),  # start is inclusive
        (START + timedelta(hours=12), True),
        (END - timedelta(microseconds=1), True),
        (END, False),  # end is exclusive
    ],
)
def test_window_is_half_open(when: datetime, inside: bool) -> None:
    event = Event("x", when)
    assert window([event], START, END) == ([event] if inside else [])
    # same with an explicit accessor on plain tuples
    assert window([(1, when)], START, END, at=lambda t: t[1]) == ([(1, when)] if inside else [])


# --- day_buckets ----------------------------------------------------------------------


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "tz", "expected"),
    [
        # Berlin spring forward on Sun 31 Mar 2024 (02:00 CET → 03:00 CEST):
        # 30 Mar 00:00 CET = 29 Mar 23:00Z; 31 Mar 00:00 CET = 30 Mar 23:00Z;
        # 1 Apr 00:00 CEST = 31 Mar 22:00Z; 2 Apr 00:00 CEST = 1 Apr 22:00Z
        # → 24 h, 23 h, 24 h
        (
            utc(2024, 3, 29, 23),
            utc(2024, 4, 1, 22),
            "Europe/Berlin",
            [
                (date(2024, 3, 30), utc(2024, 3, 29, 23), utc(2024, 3, 30, 23)),
                (date(2024, 3, 31), utc(2024, 3, 30, 23), utc(2024, 3, 31, 22)),
                (date(2024, 4, 1), utc(2024, 3, 31, 22), utc(2024, 4, 1, 22)),
            ],
        ),
        # Berlin fall back on Sun 27 Oct 2024 (03:00 CEST → 02:00 CET):
        # 27 Oct 00:00 CEST = 26 Oct 22:00Z; 28 Oct 00:00 CET = 27 Oct 23:00Z → 25 h
        (
            utc(2024, 10, 26, 22),
            utc(2024, 10, 28, 23),
            "Europe/Berlin",
            [
                (date(2024, 10, 27), utc(2024, 10, 26, 22), utc(2024, 10, 27, 23)),
                (date(2024, 10, 28), utc(2024, 10, 27, 23), utc(2024, 10, 28, 23)),
            ],
        ),
        # Ho Chi Minh City is UTC+7 all year: local midnight = 17:00Z the day before
        (
            utc(2024, 3, 9, 17),
            utc(2024, 3, 11, 17),
            "Asia/Ho_Chi_Minh",
            [
                (date(2024, 3, 10), utc(2024, 3, 9, 17), utc(2024, 3, 10, 17)),
                (date(2024, 3, 11), utc(2024, 3, 10, 17), utc(2024, 3, 11, 17)),
            ],
        ),
        # a period not aligned to midnight is clipped: 31 Mar 10:00Z (12:00 CEST) →
        # 1 Apr 05:00Z (07:00 CEST)
        (
            utc(2024, 3, 31, 10),
            utc(2024, 4, 1, 5),
            "Europe/Berlin",
            [
                (date(2024, 3, 31), utc(2024, 3, 31, 10), utc(2024, 3, 31, 22)),
                (date(2024, 4, 1), utc(2024, 3, 31, 22), utc(2024, 4, 1, 5)),
            ],
        ),
        # 20:00Z on 10 Mar is 03:00 on 11 Mar in Ho Chi Minh City: one local day
        (
            utc(2024, 3, 10, 20),
            utc(2024, 3, 10, 21),
            "Asia/Ho_Chi_Minh",
            [(date(2024, 3, 11), utc(2024, 3, 10, 20), utc(2024, 3, 10, 21))],
        ),
        # empty and inverted periods
        (utc(2024, 3, 10), utc(2024, 3, 10), "Europe/Berlin", []),
        (utc(2024, 3, 11), utc(2024, 3, 10), "Europe/Berlin", []),
    ],
)
def test_day_buckets(
    start: datetime,
    end: datetime,
    tz: str,
    expected: list[tuple[date, datetime, datetime]],
) -> None:
    assert day_buckets(start, end, tz) == expected


def test_day_buckets_day_lengths_across_berlin_dst() -> None:
    buckets = day_buckets(utc(2024, 3, 30, 23), utc(2024, 10, 27, 23), "Europe/Berlin")
    hours = {d: (hi - lo) / timedelta(hours=1) for d, lo, hi in buckets}
    assert (
        len(buckets) == 211
    )  # 31 Mar … 27 Oct 2024 inclusive: 1 + 30 + 31 + 30 + 31 + 31 + 30 + 27
    assert hours[date(2024, 3, 31)] == 23
    assert hours[date(2024, 10, 27)] == 25
    assert sum(h == 24 for h in hours.values()) == 209


def test_day_buckets_accepts_bounds_in_any_time_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2024, 3, 31, tzinfo=berlin)  # = 30 Mar 23:00Z
    end = datetime(2024, 4, 1, tzinfo=berlin)  # = 31 Mar 22:00Z
    assert day_buckets(start, end, "Europe/Berlin") == [
        (date(2024, 3, 31), utc(2024, 3, 30, 23), utc(2024, 3, 31, 22))
    ]


def test_day_buckets_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        day_buckets(datetime(2024, 3, 31), utc(2024, 4, 1), "Europe/Berlin")


@settings(max_examples=100)
@given(
    st.integers(min_value=0, max_value=400 * 24 * 60),
    st.integers(min_value=0, max_value=10 * 24 * 60),
    st.sampled_from(["Europe/Berlin", "Asia/Ho_Chi_Minh", "America/New_York", "UTC"]),
)
def test_day_buckets_tile_the_period(offset_min: int, length_min: int, tz: str) -> None:
    start = utc(2024, 1, 1) + timedelta(minutes=offset_min)
    end = start + timedelta(minutes=length_min)
    buckets = day_buckets(start, end, tz)
    if length_min == 0:
        assert buckets == []
        return
    assert buckets[0][1] == start
    assert buckets[-1][2] == end
    zone = ZoneInfo(tz)
    for (day, lo, hi), nxt in zip(buckets, [*buckets[1:], None], strict=True):
        assert lo < hi
        assert lo.astimezone(zone).date() == day
        assert (hi - timedelta(microseconds=1)).astimezone(zone).date() == day
        if nxt is not None:
            assert nxt[1] == hi
            assert nxt[0] == day + timedelta(days=1)
