from __future__ import annotations

import time as walltime
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s8_shared.business_time.calendar import (
    DEFAULT_CALENDARS_PATH,
    BusinessCalendar,
    CalendarsDocument,
    add_business_seconds,
    business_seconds_between,
    next_open,
    parse_calendars,
)
from s8_shared.data_files import DataFileError, load_model

CALS = load_model(DEFAULT_CALENDARS_PATH, CalendarsDocument).calendars_by_id
VN = CALS["vn-office"]
BER = CALS["berlin-office"]
ALWAYS = CALS["24x7"]
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
BERLIN = ZoneInfo("Europe/Berlin")
H = 3600


def vn(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=HCM)


def berlin(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=BERLIN)


ADD_CASES = [
    # (name, calendar, start, business seconds, expected)
    ("inside morning", VN, vn(2026, 3, 2, 9), 1 * H, vn(2026, 3, 2, 10)),
    ("across lunch", VN, vn(2026, 3, 2, 11), 2 * H, vn(2026, 3, 2, 14, 30)),
    ("start in lunch", VN, vn(2026, 3, 2, 12, 15), 1800, vn(2026, 3, 2, 14)),
    ("ends at window close", VN, vn(2026, 3, 2, 11), 1 * H, vn(2026, 3, 2, 12)),
    ("across night", VN, vn(2026, 3, 3, 17), 1 * H, vn(2026, 3, 4, 8, 30)),
    ("friday into saturday", VN, vn(2026, 3, 6, 17), 1 * H, vn(2026, 3, 7, 8, 30)),
    ("saturday into monday", VN, vn(2026, 3, 7, 11), 2 * H, vn(2026, 3, 9, 9)),
    ("start on sunday", VN, vn(2026, 3, 8, 15), 1800, vn(2026, 3, 9, 8, 30)),
    ("zero seconds outside hours", VN, vn(2026, 3, 8, 15), 0, vn(2026, 3, 8, 15)),
    ("full week", VN, vn(2026, 3, 2, 8), 44 * H, vn(2026, 3, 7, 12)),
    ("tet 2026", VN, vn(2026, 2, 13, 17), 1 * H, vn(2026, 2, 23, 8, 30)),
    ("tet 2027 + sunday compensation", VN, vn(2027, 2, 4, 17), 1 * H, vn(2027, 2, 11, 8, 30)),
    ("tet 2028", VN, vn(2028, 1, 24, 17), 1 * H, vn(2028, 1, 31, 8, 30)),
    ("hung kings + compensation", VN, vn(2026, 4, 25, 11), 2 * H, vn(2026, 4, 28, 9)),
    ("30/4 and 1/5", VN, vn(2026, 4, 29, 17), 1 * H, vn(2026, 5, 2, 8, 30)),
    ("national day 2026", VN, vn(2026, 8, 31, 17), 1 * H, vn(2026, 9, 3, 8, 30)),
    ("month end", VN, vn(2026, 1, 31, 11), 2 * H, vn(2026, 2, 2, 9)),
    ("year end + new year", VN, vn(2026, 12, 31, 17), 1 * H, vn(2027, 1, 2, 8, 30)),
    ("berlin spring-forward weekend", BER, berlin(2026, 3, 27, 16), 2 * H, berlin(2026, 3, 30, 10)),
    ("berlin fall-back weekend", BER, berlin(2026, 10, 23, 16), 2 * H, berlin(2026, 10, 26, 10)),
    ("berlin year end", BER, berlin(2026, 12, 31, 16), 2 * H, berlin(2027, 1, 1, 10)),
    ("24x7 thirty days", ALWAYS, vn(2026, 2, 13, 17), 30 * 86400, vn(2026, 3, 15, 17)),
]


@pytest.mark.parametrize(
    ("cal", "start", "seconds", "expected"),
    [case[1:] for case in ADD_CASES],
    ids=[case[0] for case in ADD_CASES],
)
def test_add_business_seconds(
    cal: BusinessCalendar, start: datetime, seconds: float, expected: datetime
) -> None:
    result = add_business_seconds(cal, start, seconds)
    assert result == expected
    assert result.tzinfo is UTC
    assert business_seconds_between(cal, start, result) == seconds


BETWEEN_CASES = [
    ("vn week", VN, vn(2026, 3, 2), vn(2026, 3, 9), 44 * H),
    ("vn lunch only", VN, vn(2026, 3, 2, 12), vn(2026, 3, 2, 13, 30), 0),
    ("vn tet week", VN, vn(2026, 2, 14), vn(2026, 2, 23), 0),
    ("reversed is zero", VN, vn(2026, 3, 9), vn(2026, 3, 2), 0),
    ("berlin spring week", BER, berlin(2026, 3, 23), berlin(2026, 3, 30), 40 * H),
    ("berlin fall week", BER, berlin(2026, 10, 19), berlin(2026, 10, 26), 40 * H),
    (
        "berlin fri to mon over spring-forward",
        BER,
        berlin(2026, 3, 27, 9),
        berlin(2026, 3, 30, 17),
        16 * H,
    ),
    ("24x7 over spring-forward", ALWAYS, berlin(2026, 3, 29), berlin(2026, 3, 30), 23 * H),
]


@pytest.mark.parametrize(
    ("cal", "a", "b", "expected"),
    [case[1:] for case in BETWEEN_CASES],
    ids=[case[0] for case in BETWEEN_CASES],
)
def test_business_seconds_between(
    cal: BusinessCalendar, a: datetime, b: datetime, expected: float
) -> None:
    assert business_seconds_between(cal, a, b) == expected


def _berlin_daily(*windows: tuple[time, time]) -> BusinessCalendar:
    return BusinessCalendar("night", "Europe/Berlin", {d: windows for d in range(7)})


@pytest.mark.parametrize(
    ("windows", "day", "hours"),
    [
        ((time(0), time(0)), date(2026, 3, 29), 23),  # 00:00-24:00 on spring-forward day
        ((time(0), time(0)), date(2026, 10, 25), 25),  # fall-back day has 25 hours
        ((time(1), time(4)), date(2026, 3, 29), 2),  # window across the skipped hour
        ((time(1), time(4)), date(2026, 10, 25), 4),  # window across the repeated hour
        ((time(2, 30), time(3, 30)), date(2026, 3, 29), 0.5),  # opens in the gap → at 03:00
    ],
)
def test_windows_across_dst_transitions(
    windows: tuple[time, time], day: date, hours: float
) -> None:
    cal = _berlin_daily(windows)
    a = datetime.combine(day, time(0), BERLIN)
    b = datetime.combine(day + timedelta(days=1), time(0), BERLIN)
    assert business_seconds_between(cal, a, b) == hours * H


def test_gap_opening_is_the_transition_instant() -> None:
    cal = _berlin_daily((time(2, 30), time(3, 30)))
    assert next_open(cal, berlin(2026, 3, 29, 0)) == datetime(2026, 3, 29, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cal", "at", "expected"),
    [
        (VN, vn(2026, 3, 8, 10), vn(2026, 3, 9, 8)),  # sunday → monday
        (VN, vn(2026, 3, 9, 12, 10), vn(2026, 3, 9, 13, 30)),  # lunch
        (VN, vn(2026, 3, 9, 12), vn(2026, 3, 9, 13, 30)),  # exactly at a window's close
        (VN, vn(2026, 3, 9, 9, 15), vn(2026, 3, 9, 9, 15)),  # inside a window
        (VN, vn(2026, 2, 13, 18), vn(2026, 2, 23, 8)),  # Tết
        (BER, berlin(2026, 3, 28, 12), berlin(2026, 3, 30, 9)),  # DST weekend
        (ALWAYS, vn(2026, 1, 1, 3), vn(2026, 1, 1, 3)),
    ],
)
def test_next_open(cal: BusinessCalendar, at: datetime, expected: datetime) -> None:
    assert next_open(cal, at) == expected


def test_shipped_calendars() -> None:
    assert set(CALS) == {"vn-office", "24x7", "berlin-office"}
    assert ALWAYS.always_open
    assert date(2026, 2, 17) in VN.holidays  # Tết 2026 day 1
    assert {date(2027, 2, 6), date(2028, 1, 26)} <= VN.holidays
    assert {date(2026, 4, 26), date(2027, 4, 16), date(2028, 4, 4)} <= VN.holidays
    for year in (2026, 2027, 2028):
        assert {date(year, 1, 1), date(year, 4, 30), date(year, 5, 1), date(year, 9, 2)} <= (
            VN.holidays
        )


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        add_business_seconds(VN, datetime(2026, 3, 2, 9), 60)


@pytest.mark.parametrize(
    "weekly",
    [{0: ((time(9), time(8)),)}, {0: ((time(8), time(12)), (time(11), time(13)))}, {}],
)
def test_invalid_calendars_are_rejected(weekly: dict[int, tuple[tuple[time, time], ...]]) -> None:
    with pytest.raises(ValueError, match="bad"):
        BusinessCalendar("bad", "UTC", weekly)


def test_long_spans_are_fast() -> None:
    began = walltime.perf_counter()
    due = add_business_seconds(VN, vn(2026, 1, 2, 9), 365 * 86400)  # ~8 years of office time
    assert business_seconds_between(VN, vn(2026, 1, 2, 9), due) == 365 * 86400
    assert walltime.perf_counter() - began < 2.0


starts = st.datetimes(
    min_value=datetime(2025, 12, 20), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
spans = st.floats(min_value=0, max_value=30 * 86400, allow_nan=False)
calendars = st.sampled_from([VN, BER, ALWAYS])


@settings(max_examples=200, deadline=None)
@given(cal=calendars, start=starts, seconds=spans)
def test_between_inverts_add(cal: BusinessCalendar, start: datetime, seconds: float) -> None:
    end = add_business_seconds(cal, start, seconds)
    assert abs(business_seconds_between(cal, start, end) - seconds) <= 1e-6


@settings(max_examples=200, deadline=None)
@given(cal=calendars, start=starts, s1=spans, s2=spans)
def test_add_is_monotonic(cal: BusinessCalendar, start: datetime, s1: float, s2: float) -> None:
    lo, hi = sorted((s1, s2))
    assert add_business_seconds(cal, start, lo) <= add_business_seconds(cal, start, hi)


@settings(max_examples=200, deadline=None)
@given(
    cal=calendars,
    a=starts,
    gaps=st.tuples(
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    ),
)
def test_between_is_monotonic_and_additive(
    cal: BusinessCalendar, a: datetime, gaps: tuple[timedelta, timedelta]
) -> None:
    b = a + gaps[0]
    c = b + gaps[1]
    ab, bc, ac = (business_seconds_between(cal, x, y) for x, y in ((a, b), (b, c), (a, c)))
    assert 0 <= ab <= ac
    assert abs(ab + bc - ac) <= 1e-6
    assert ac <= (c - a).total_seconds()


@pytest.mark.parametrize(
    ("holidays", "reason"),
    [
        (["0001-01-01..9999-12-30"], "between 1970 and 2200"),
        (["2026-01-01..2028-01-01"], "at most 366 days"),
        ([f"{y}-01-01..{y}-12-31" for y in range(2000, 2015)], "at most 5000 holidays"),
        ("2026-01-01", "a list of at most"),
        (["2026-13-01"], "month"),
    ],
    ids=["centuries", "long-range", "too-many", "not-a-list", "not-a-date"],
)
def test_a_calendar_s_holidays_are_bounded_input(holidays: object, reason: str) -> None:
    raw = {"calendars": {"vn": {"tz": "Asia/Ho_Chi_Minh", "weekly": {"mon": ["08:00-17:00"]}, "extra_holidays": holidays}}}  # fmt: skip
    with pytest.raises(ValueError, match=reason):
        parse_calendars(raw)


def test_a_calendars_file_is_refused_with_the_file_and_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "calendars.yaml"
    path.write_text("calendars:\n  vn:\n    tz: Asia/Ho_Chi_Minh\n    weekly: {mon: [08:00-17:00]}\n    holidays: [tet]\n")  # fmt: skip
    with pytest.raises(DataFileError, match=r"(?s)calendars\.yaml: .*unknown holiday set 'tet'"):
        load_model(path, CalendarsDocument)
    path.write_text("calendars:\n  vn: [mon]\n")
    with pytest.raises(DataFileError, match="not a calendars document"):
        load_model(path, CalendarsDocument)


def test_an_empty_calendars_file_has_no_calendars(tmp_path: Path) -> None:
    path = tmp_path / "calendars.yaml"
    path.write_text("")
    assert load_model(path, CalendarsDocument, empty={}).calendars_by_id == {}
