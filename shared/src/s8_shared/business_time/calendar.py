"""Business calendars: working windows in local wall-clock time, holidays, or 24/7.

Business time is real (UTC) time that falls inside a working window, so a window that
spans a DST change lasts what actually passes (one hour less or more). Windows are laid
out per local day, which keeps DST, month and year ends simple; long spans walk window by
window (a few per day), never minute by minute.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, PrivateAttr, model_validator

DEFAULT_CALENDARS_PATH = Path(__file__).parent / "calendars.yaml"

Window = tuple[time, time]
Interval = tuple[datetime, datetime]

_MIDNIGHT = time(0)  # as a window end it means the end of the day ("24:00")
_US = timedelta(microseconds=1)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A calendar closed this long is misconfigured; stop instead of looping forever.
_MAX_CLOSED_DAYS = 3700


@dataclass(frozen=True)
class BusinessCalendar:
    calendar_id: str
    tz: str
    weekly: Mapping[int, tuple[Window, ...]] = field(default_factory=dict, hash=False)
    holidays: frozenset[date] = frozenset()
    always_open: bool = False

    def __post_init__(self) -> None:
        ZoneInfo(self.tz)  # fail fast on an unknown zone (or a system without tzdata)
        for day, windows in self.weekly.items():
            if day not in range(7):
                raise ValueError(f"{self.calendar_id}: weekday {day} not in 0..6")
            prev_end: time | None = None
            for start, end in windows:
                if end != _MIDNIGHT and end <= start:
                    raise ValueError(f"{self.calendar_id}: empty window {start}-{end}")
                if prev_end is not None and (prev_end == _MIDNIGHT or start < prev_end):
                    raise ValueError(f"{self.calendar_id}: windows overlap or are unsorted")
                prev_end = end
        if not self.always_open and not any(self.weekly.values()):
            raise ValueError(f"{self.calendar_id}: no working window and not always_open")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)  # ZoneInfo caches instances per key


def _aware_utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime: {at!r}")
    return at.astimezone(UTC)


def _wall_to_utc(day: date, t: time, zone: ZoneInfo) -> datetime:
    """The instant the local wall clock shows `t` on `day`: the first one when a fall-back
    repeats it, the transition itself when a spring-forward skips it."""
    naive = datetime.combine(day, t)
    after = naive.replace(tzinfo=zone).astimezone(UTC)
    if after.astimezone(zone).replace(tzinfo=None) == naive:
        return after
    # In a gap fold=0 lands after the jump and fold=1 before it: bisect to the jump.
    before = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    while after - before > timedelta(seconds=1):
        mid = before + (after - before) / 2
        if mid.astimezone(zone).replace(tzinfo=None) >= naive:
            after = mid
        else:
            before = mid
    return after.replace(microsecond=0)  # zones switch on whole seconds


def _day_intervals(cal: BusinessCalendar, day: date) -> list[Interval]:
    if day in cal.holidays:
        return []
    zone = cal.zone
    out: list[Interval] = []
    for start, end in cal.weekly.get(day.weekday(), ()):
        s = _wall_to_utc(day, start, zone)
        e = _wall_to_utc(day + timedelta(days=1) if end == _MIDNIGHT else day, end, zone)
        if e > s:
            out.append((s, e))
    return out


def _intervals(cal: BusinessCalendar, at: datetime, until: datetime | None) -> Iterator[Interval]:
    """Working intervals (UTC) from the local day of `at` to the local day of `until`
    (open-ended when None; then it raises if the calendar never opens again)."""
    zone = cal.zone
    day = at.astimezone(zone).date()
    last = until.astimezone(zone).date() if until is not None else None
    closed = 0
    while last is None or day <= last:
        intervals = _day_intervals(cal, day)
        closed = 0 if intervals else closed + 1
        if closed > _MAX_CLOSED_DAYS:
            raise ValueError(f"{cal.calendar_id}: no working window after {at.isoformat()}")
        yield from intervals
        day += timedelta(days=1)


def add_business_seconds(cal: BusinessCalendar, start: datetime, seconds: float) -> datetime:
    """The earliest instant (UTC) at which `seconds` of working time have passed since
    `start`; counting begins at the next window when `start` is outside hours (so 0 gives
    `start` itself, and a target that ends with a window ends at the window's close)."""
    start = _aware_utc(start)
    if seconds < 0:
        raise ValueError(f"negative business seconds: {seconds}")
    # Integer microseconds: exact sums over long spans, no float drift.
    remaining = round(seconds * 1_000_000)
    if cal.always_open or remaining == 0:
        return start + remaining * _US
    for s, e in _intervals(cal, start, None):
        if e <= start:
            continue
        s = max(s, start)
        available = (e - s) // _US
        if remaining <= available:
            return s + remaining * _US
        remaining -= available
    raise AssertionError("unreachable: _intervals is endless or raises")


def business_seconds_between(cal: BusinessCalendar, a: datetime, b: datetime) -> float:
    """Working seconds in [a, b); 0 when b <= a."""
    a, b = _aware_utc(a), _aware_utc(b)
    if b <= a:
        return 0.0
    if cal.always_open:
        return (b - a) / _US / 1_000_000
    total = 0
    for s, e in _intervals(cal, a, b):
        s, e = max(s, a), min(e, b)
        if e > s:
            total += (e - s) // _US
    return total / 1_000_000


def next_open(cal: BusinessCalendar, at: datetime) -> datetime:
    """`at` itself when inside a window, else the start of the next window (UTC)."""
    at = _aware_utc(at)
    if cal.always_open:
        return at
    for s, e in _intervals(cal, at, None):
        if e > at:
            return max(s, at)
    raise AssertionError("unreachable: _intervals is endless or raises")


def _parse_window(text: str) -> Window:
    start, _, end = (part.strip() for part in text.partition("-"))
    return time.fromisoformat(start), _MIDNIGHT if end == "24:00" else time.fromisoformat(end)


def _parse_dates(items: list[Any]) -> set[date]:
    """Dates, or `YYYY-MM-DD..YYYY-MM-DD` inclusive ranges, within bounds: a calendar is input
    like any other, and a range of centuries would cost seconds and megabytes to expand."""
    if not isinstance(items, list) or len(items) > MAX_HOLIDAYS:
        raise ValueError(f"holidays: a list of at most {MAX_HOLIDAYS} dates or ranges")
    out: set[date] = set()
    for item in items:
        first, _, last = (item.isoformat() if isinstance(item, date) else str(item)[:32]).partition("..")  # fmt: skip
        d, end = date.fromisoformat(first.strip()), date.fromisoformat((last or first).strip())
        if end < d:
            raise ValueError(f"holiday range ends before it starts: {item}")
        if d.year < FIRST_YEAR or end.year > LAST_YEAR:
            raise ValueError(f"holidays lie between {FIRST_YEAR} and {LAST_YEAR}: {item}")
        if (end - d).days >= MAX_RANGE_DAYS:
            raise ValueError(f"a holiday range spans at most {MAX_RANGE_DAYS} days: {item}")
        while d <= end:
            out.add(d)
            d += timedelta(days=1)
        if len(out) > MAX_HOLIDAYS:
            raise ValueError(f"at most {MAX_HOLIDAYS} holidays per set or calendar")
    return out


MAX_HOLIDAYS = 5000  # about 14 years of days
MAX_RANGE_DAYS = 366
FIRST_YEAR, LAST_YEAR = 1970, 2200


def parse_calendars(raw: Mapping[str, Any]) -> dict[str, BusinessCalendar]:
    """Calendars by id from the YAML document's structure (also for stored documents)."""
    sets = {
        name: _parse_dates(days or []) for name, days in (raw.get("holiday_sets") or {}).items()
    }
    calendars: dict[str, BusinessCalendar] = {}
    for cal_id, spec in (raw.get("calendars") or {}).items():
        unknown = set(spec.get("weekly") or {}) - set(_WEEKDAYS)
        if unknown:
            raise ValueError(f"{cal_id}: unknown weekday keys {sorted(unknown)}")
        weekly = {
            _WEEKDAYS.index(name): tuple(_parse_window(w) for w in windows or [])
            for name, windows in (spec.get("weekly") or {}).items()
        }
        holidays = _parse_dates(spec.get("extra_holidays") or [])
        for name in spec.get("holidays") or []:
            if name not in sets:
                raise ValueError(f"{cal_id}: unknown holiday set {name!r}")
            holidays |= sets[name]
        if len(holidays) > MAX_HOLIDAYS:
            raise ValueError(f"{cal_id}: at most {MAX_HOLIDAYS} holidays")
        calendars[str(cal_id)] = BusinessCalendar(
            calendar_id=str(cal_id),
            tz=spec.get("tz", "UTC"),
            weekly=weekly,
            holidays=frozenset(holidays),
            always_open=bool(spec.get("always_open", False)),
        )
    return calendars


class CalendarsDocument(BaseModel):
    """The calendars document (`holiday_sets` and `calendars`, see calendars.yaml) as a model,
    so the edges load it with `s8_shared.data_files.load_model(path, CalendarsDocument,
    empty={})`: validating it parses every calendar (`calendars_by_id`), and a bad one is
    refused with the reason `parse_calendars` gives."""

    model_config = ConfigDict(frozen=True)

    holiday_sets: dict[str, Any] | None = None
    calendars: dict[str, Any] | None = None
    _by_id: dict[str, BusinessCalendar] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _parse(self) -> Self:
        try:
            self._by_id = parse_calendars(self.model_dump())
        except (AttributeError, KeyError, TypeError) as exc:  # a wrongly shaped entry
            raise ValueError(f"not a calendars document: {exc!r}") from None
        return self

    @property
    def calendars_by_id(self) -> dict[str, BusinessCalendar]:
        return dict(self._by_id)
