"""Support KPI formulas (pure, no I/O), following the definitions of the leading helpdesks.

Every percentage is on a 0–100 scale and is None when its denominator is 0 (an empty window
is "no data", not 0%). Durations are in seconds; see :mod:`s8_analytics.domain.stats` for
the median / p90 / average definitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from s8_analytics.domain.stats import (
    AGE_BUCKETS,
    BacklogResult,
    DurationSummary,
    OpenTicket,
    age_bucket,
    backlog,
    summary,
)

__all__ = [
    "AGE_BUCKETS",
    "RATE_DEFINITIONS",
    "BacklogResult",
    "ComplianceResult",
    "CsatResult",
    "DurationSummary",
    "Handling",
    "NpsResult",
    "OpenTicket",
    "RateResult",
    "SlaOutcome",
    "SolvedTicket",
    "age_bucket",
    "aht",
    "backlog",
    "csat",
    "fcr",
    "nps",
    "rate",
    "sla_compliance",
    "summary",
]


def _percent(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator * 100 / denominator


# --- CSAT -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CsatResult:
    """CSAT over a window: answers, satisfied answers (4–5), CSAT % and response rate %."""

    responses: int
    satisfied: int
    percent: float | None
    response_rate: float | None


def csat(ratings: Sequence[int], surveys_sent: int) -> CsatResult:
    """Customer satisfaction on a 5-point scale (1 = very dissatisfied … 5 = very satisfied).

    - **CSAT %** = ratings of 4 or 5 ÷ all ratings × 100 (ratings of 1–3, including the
      neutral 3, are not satisfied); None when there are no ratings.
    - **Response rate %** = answers received ÷ surveys sent × 100; None when no survey was
      sent. It can exceed 100 when answers to surveys sent before the window fall inside it.

    Raises ValueError for a rating outside 1..5 or a negative ``surveys_sent``.
    """
    if surveys_sent < 0:
        raise ValueError(f"surveys_sent must be >= 0, got {surveys_sent}")
    for r in ratings:
        if not 1 <= r <= 5:
            raise ValueError(f"CSAT rating must be within 1..5, got {r}")
    satisfied = sum(1 for r in ratings if r >= 4)
    return CsatResult(
        responses=len(ratings),
        satisfied=satisfied,
        percent=_percent(satisfied, len(ratings)),
        response_rate=_percent(len(ratings), surveys_sent),
    )


# --- NPS ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NpsResult:
    """NPS over a window: answer counts per category and the score (−100..100)."""

    responses: int
    promoters: int
    passives: int
    detractors: int
    score: float | None


def nps(scores: Sequence[int]) -> NpsResult:
    """Net Promoter Score from 0–10 "how likely are you to recommend us" answers.

    NPS = % promoters (9–10) − % detractors (0–6), each as a share of all answers; passives
    (7–8) count only in the denominator. The score lies in −100..100 (all detractors = −100,
    all passives = 0, all promoters = 100) and is None when there are no answers.

    Raises ValueError for a score outside 0..10.
    """
    for s in scores:
        if not 0 <= s <= 10:
            raise ValueError(f"NPS score must be within 0..10, got {s}")
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    n = len(scores)
    return NpsResult(
        responses=n,
        promoters=promoters,
        passives=n - promoters - detractors,
        detractors=detractors,
        score=None if n == 0 else (promoters - detractors) * 100 / n,
    )


# --- Generic rates, FCR ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateResult:
    """A ratio as counts plus percent (numerator ÷ denominator × 100; None if denominator 0)."""

    numerator: int
    denominator: int
    percent: float | None


RATE_DEFINITIONS: dict[str, str] = {
    "handoff_rate": "Bot conversations handed off to a human agent ÷ all bot conversations × 100.",
    "transfer_rate": "Tickets transferred to another agent or team at least once ÷ all tickets × 100.",
    "reopen_rate": "Solved tickets that were reopened afterwards ÷ all solved tickets × 100.",
    "faq_deflection_rate": "New requests answered by a FAQ / self-service article without an agent (deflected) ÷ all new tickets × 100.",
    "proactive_contact_rate": "Proactive contacts started by the team ÷ (proactive contacts + inbound tickets) × 100.",
}
"""One-sentence definitions of the rates computed with :func:`rate`, keyed by KPI name."""


def rate(numerator: int, denominator: int) -> RateResult:
    """Generic rate: numerator ÷ denominator × 100, None when the denominator is 0.

    Used for the rates in ``RATE_DEFINITIONS``: handoff rate (bot→human handoffs ÷ bot
    conversations), transfer rate (transferred tickets ÷ tickets), reopen rate (reopened ÷
    solved), FAQ deflection rate (deflected ÷ new tickets) and proactive contact rate
    (proactive contacts ÷ (proactive contacts + inbound tickets)).

    Raises ValueError for a negative count.
    """
    if numerator < 0 or denominator < 0:
        raise ValueError(f"rate counts must be >= 0, got {numerator}/{denominator}")
    return RateResult(numerator, denominator, _percent(numerator, denominator))


@dataclass(frozen=True, slots=True)
class SolvedTicket:
    """A solved ticket as FCR sees it: public agent replies and whether it was reopened."""

    agent_replies: int
    reopened: bool


def fcr(solved: Sequence[SolvedTicket]) -> RateResult:
    """First contact resolution: solved in one touch, and it stayed solved.

    FCR % = solved tickets with exactly one public agent reply and never reopened ÷ solved
    tickets with at least one public agent reply × 100. Solved tickets with 0 agent replies
    (e.g. deflected by a FAQ article, closed by the customer or auto-closed) are excluded
    from both numerator and denominator — no agent contact took place. Internal notes are
    not replies. None when no solved ticket has an agent reply.

    Raises ValueError for a negative ``agent_replies``.
    """
    numerator = denominator = 0
    for t in solved:
        if t.agent_replies < 0:
            raise ValueError(f"agent_replies must be >= 0, got {t.agent_replies}")
        if t.agent_replies == 0:
            continue
        denominator += 1
        if t.agent_replies == 1 and not t.reopened:
            numerator += 1
    return rate(numerator, denominator)


# --- AHT ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Handling:
    """One agent's handling of a ticket: assignment, solve and time paused in between."""

    assigned_at: datetime
    solved_at: datetime
    paused_seconds: float = 0.0


def aht(handlings: Sequence[Handling]) -> DurationSummary:
    """Agent handling time (AHT) in seconds, summarized as count / median / p90 / average.

    Handling time of one ticket = solved_at − assigned_at − paused seconds (time in
    pending / on-hold states waiting on the customer), floored at 0 so inconsistent data
    (pauses longer than the handling, clock skew) never produces a negative duration.

    Raises ValueError for a negative ``paused_seconds``.
    """
    durations: list[float] = []
    for h in handlings:
        if h.paused_seconds < 0:
            raise ValueError(f"paused_seconds must be >= 0, got {h.paused_seconds}")
        elapsed = (h.solved_at - h.assigned_at).total_seconds()
        durations.append(max(0.0, elapsed - h.paused_seconds))
    return summary(durations)


# --- SLA compliance -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlaOutcome:
    """A finished SLA clock: its target (first_response, next_response, resolution, …)."""

    target: str
    breached: bool
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class ComplianceResult:
    """SLA compliance of one target: clocks met, clocks breached and percent met."""

    met: int
    breached: int
    percent: float | None


def sla_compliance(outcomes: Sequence[SlaOutcome]) -> dict[str, ComplianceResult]:
    """SLA compliance per target: % of finished clocks that were not breached.

    Compliance % = clocks met ÷ (clocks met + clocks breached) × 100, computed separately
    for each target (first response, next response, resolution, …). Only finished clocks
    count: running clocks must not be passed in, and cancelled clocks (``cancelled=True``,
    e.g. the policy was removed or the ticket was merged or deleted) are excluded from both
    numerator and denominator. A breached clock counts as breached even if the work was
    done later. Targets are keyed in sorted order; a target with only cancelled clocks is
    reported with 0 / 0 and None.
    """
    counts: dict[str, list[int]] = {}
    for o in sorted(outcomes, key=lambda o: o.target):
        met_breached = counts.setdefault(o.target, [0, 0])
        if o.cancelled:
            continue
        met_breached[1 if o.breached else 0] += 1
    return {
        target: ComplianceResult(met=met, breached=breached, percent=_percent(met, met + breached))
        for target, (met, breached) in counts.items()
    }
