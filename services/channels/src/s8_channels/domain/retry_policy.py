"""When a failed send is tried again, and when it is given up. Pure.

The backoff is `delivery_backoff_seconds × 2^(n-1)` after the n-th failed attempt, at most
MAX_BACKOFF_SECONDS, and never shorter than a platform's Retry-After. These few lines stand
in for tenacity's `wait_exponential`: tenacity computes waits for a call retried in one
process (from a live `RetryCallState`), whereas a delivery's attempts are stored and may be
made by different replicas after a restart; a plain function of the stored count says the
same thing and is tested as a table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from s8_channels.domain.delivery import DeliveryError

MAX_BACKOFF_SECONDS = 900.0  # a platform down for long: try every 15 minutes at most
_MAX_EXPONENT = 30  # 2^30 × any base is far past the cap; keeps the float finite


@dataclass(frozen=True)
class RetryAt:
    at: datetime
    delay_seconds: float
    reason: str


@dataclass(frozen=True)
class GiveUp:
    reason: str
    permanent: bool


def backoff_seconds(
    failed_attempts: int, base_seconds: float, cap_seconds: float = MAX_BACKOFF_SECONDS
) -> float:
    """The wait after the `failed_attempts`-th failed attempt (1 → base, 2 → 2 × base, ...)."""
    if failed_attempts < 1:
        return 0.0
    return min(base_seconds * 2.0 ** min(failed_attempts - 1, _MAX_EXPONENT), cap_seconds)


def after_failure(
    error: DeliveryError,
    attempts: int,
    *,
    max_attempts: int,
    base_seconds: float,
    now: datetime,
) -> RetryAt | GiveUp:
    """What follows a failed attempt (`attempts` counts it): a permanent error is final at
    once, a transient one is retried until `max_attempts` attempts were made."""
    if error.permanent:
        return GiveUp(error.reason, permanent=True)
    if attempts >= max_attempts:
        return GiveUp(f"gave up after {attempts} attempts: {error.reason}", permanent=False)
    delay = backoff_seconds(attempts, base_seconds)
    if error.retry_after is not None:
        delay = max(delay, min(error.retry_after, MAX_BACKOFF_SECONDS))
    return RetryAt(now + timedelta(seconds=delay), delay, error.reason)


def abandoned(attempts: int, max_attempts: int) -> GiveUp | None:
    """A claim past the last attempt: the sends before it stopped without an outcome (the
    replica died mid-send, leaving its lease to expire). It is not sent again: a message
    that crashes its sender every time must not do so for ever."""
    if attempts <= max_attempts:
        return None
    return GiveUp(
        f"gave up after {max_attempts} attempts: the last ended without an outcome "
        "(the sender stopped mid-send)",
        permanent=False,
    )
