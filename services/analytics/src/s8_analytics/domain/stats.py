"""Generic statistics, backlog snapshot and time-slicing helpers for the KPIs (pure, no I/O)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol, TypeVar, overload
from zoneinfo import ZoneInfo

T = TypeVar("T")


class HasWhen(Protocol):
    """Anything with a ``when`` timestamp (the default key of :func:`window`)."""

    @property
    def when(self) -> datetime: ...


W = TypeVar("W", bound=HasWhen)


@dataclass(frozen=True, slots=True)
class DurationSummary:
    """Distribution of durations in seconds; every statistic is None when ``count`` is 0."""

    count: int
    median: float | None
    p90: float | None
    average: float | None


def summary(durations_seconds: Sequence[float]) -> DurationSummary:
    """Summarize durations (seconds): count, median, 90th percentile and arithmetic mean.

    - **median**: the middle value of the sorted durations; for an even count, the mean of
      the two middle values.
    - **p90** (nearest-rank method): sort the n durations ascending and take the value at
      1-based rank ⌈0.9 × n⌉, i.e. the smallest duration such that at least 90% of the
      durations are less than or equal to it. It is always an observed value (no
      interpolation): for 10 values it is the 9th, for 11 values the 10th.
    - **average**: sum of durations ÷ count.

    An empty input yields ``count=0`` and None for every statistic.
    """
    n = len(durations_seconds)
    if n == 0:
        return DurationSummary(count=0, median=None, p90=None, average=None)
    ordered = sorted(float(d) for d in durations_seconds)
    mid = n // 2
    median = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    rank = -(-9 * n // 10)  # ⌈9n/10⌉ in exact integer arithmetic (no float rounding)
    p90 = ordered[rank - 1]
    average = math.fsum(ordered) / n
    return DurationSummary(count=n, median=median, p90=p90, average=average)


def group_by(items: Iterable[T], key: Callable[[T], str]) -> dict[str, list[T]]:
    """Group items by ``key(item)``; groups and their items keep the input order."""
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


@overload
def window(items: Iterable[W], start: datetime, end: datetime) -> list[W]: ...


@overload
def window(
    items: Iterable[T], start: datetime, end: datetime, at: Callable[[T], datetime]
) -> list[T]: ...


def window(
    items: Iterable[Any],
    start: datetime,
    end: datetime,
    at: Callable[[Any], datetime] | None = None,
) -> list[Any]:
    """Items whose timestamp ``at(item)`` (default ``item.when``) lies in [start, end).

    The window is half-open: an item exactly at ``start`` is included, one exactly at
    ``end`` is not, so consecutive windows never count an item twice.
    """
    get = at if at is not None else _when
    return [item for item in items if start <= get(item) < end]


def _when(item: HasWhen) -> datetime:
    return item.when


def day_buckets(start: datetime, end: datetime, tz: str) -> list[tuple[date, datetime, datetime]]:
    """Split [start, end) into the local calendar days of time zone ``tz``.

    Returns ``(local_date, utc_start, utc_end)`` per day, in order, with UTC bounds forming
    half-open intervals that exactly tile [start, end): each day runs from local midnight to
    the next local midnight (via IANA ``zoneinfo``), so a day is 23 or 25 hours long on a
    daylight-saving change (e.g. Europe/Berlin) and always 24 hours in zones without DST
    (e.g. Asia/Ho_Chi_Minh, UTC+7). The first and last days are clipped to ``start`` and
    ``end``. ``start`` and ``end`` must be timezone-aware; an empty period gives ``[]``.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("day_buckets needs timezone-aware start and end")
    zone = ZoneInfo(tz)
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    buckets: list[tuple[date, datetime, datetime]] = []
    day = start_utc.astimezone(zone).date()
    while True:
        day_start = _local_midnight_utc(day, zone)
        next_day = day + timedelta(days=1)
        day_end = _local_midnight_utc(next_day, zone)
        lo, hi = max(day_start, start_utc), min(day_end, end_utc)
        if lo >= end_utc:
            return buckets
        if lo < hi:
            buckets.append((day, lo, hi))
        day = next_day


def _local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    # fold=0: on a repeated midnight the first occurrence; in a midnight gap the pre-change
    # offset, which maps to the instant of the change (when the local day really starts).
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


# --- Backlog --------------------------------------------------------------------------


AGE_BUCKETS: tuple[tuple[str, timedelta], ...] = (
    ("<1h", timedelta(0)),
    ("1-4h", timedelta(hours=1)),
    ("4-24h", timedelta(hours=4)),
    ("1-3d", timedelta(days=1)),
    ("3-7d", timedelta(days=3)),
    (">7d", timedelta(days=7)),
)
"""Backlog age buckets as (label, inclusive lower bound); each runs up to the next bound."""


@dataclass(frozen=True, slots=True)
class OpenTicket:
    """An open (unsolved) ticket as the backlog sees it."""

    status: str
    priority: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class BacklogResult:
    """Open tickets counted by status, by priority and by age bucket (all ages present)."""

    total: int
    by_status: dict[str, int]
    by_priority: dict[str, int]
    by_age: dict[str, int]


def age_bucket(age: timedelta) -> str:
    """Label of the backlog age bucket for ``age`` (negative ages, from clock skew, are <1h)."""
    label = AGE_BUCKETS[0][0]
    for name, lower in AGE_BUCKETS:
        if age >= lower:
            label = name
    return label


def backlog(open_tickets: Sequence[OpenTicket], now: datetime) -> BacklogResult:
    """Backlog snapshot at ``now``: open tickets by status, by priority and by age.

    Age = now − created_at. Buckets are half-open with an inclusive lower bound:
    ``<1h`` [0, 1h), ``1-4h`` [1h, 4h), ``4-24h`` [4h, 24h), ``1-3d`` [24h, 72h),
    ``3-7d`` [72h, 168h), ``>7d`` [168h, ∞) — a ticket exactly 1 hour old is ``1-4h``,
    exactly 7 days old is ``>7d``. Every age bucket is present (0 when empty), in that
    order; status and priority keys appear sorted, only when at least one ticket has them.
    """
    by_status: dict[str, int] = {}
    by_priority: dict[str, int] = {}
    by_age = {name: 0 for name, _ in AGE_BUCKETS}
    for t in open_tickets:
        by_status[t.status] = by_status.get(t.status, 0) + 1
        by_priority[t.priority] = by_priority.get(t.priority, 0) + 1
        by_age[age_bucket(now - t.created_at)] += 1
    return BacklogResult(
        total=len(open_tickets),
        by_status=dict(sorted(by_status.items())),
        by_priority=dict(sorted(by_priority.items())),
        by_age=by_age,
    )
