"""When to ask, and what an answer means: CSAT after a solve, NPS on a cadence, answers
stored once with a grace period, follow-ups for unhappy customers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from s8_shared.contracts import TicketSnapshot

CSAT_RANGE = range(1, 6)
NPS_RANGE = range(0, 11)


@dataclass(frozen=True)
class SurveyPolicy:
    csat_delay: timedelta = timedelta(minutes=30)
    csat_throttle: timedelta = timedelta(days=7)
    csat_sampling: float = 1.0  # share of eligible tickets that get a survey
    nps_cadence: timedelta = timedelta(days=90)
    nps_min_solved: int = 1
    link_lifetime: timedelta = timedelta(days=14)
    answer_grace: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class Plan:
    send: bool
    reason: str
    send_at: datetime | None = None


def sampled(ticket_id: str, rate: float) -> bool:
    """Deterministic: the same ticket is always in or out of the sample."""
    if rate >= 1.0:
        return True
    bucket = int.from_bytes(hashlib.sha256(ticket_id.encode()).digest()[:8], "big") / 2**64
    return bucket < rate


def plan_csat(
    snapshot: TicketSnapshot,
    *,
    already_surveyed: bool,
    last_csat_sent_at: datetime | None,
    now: datetime,
    policy: SurveyPolicy,
) -> Plan:
    """CSAT once per solved ticket, after a delay; none for merged tickets, deflected
    tickets nobody answered, or a customer surveyed within the throttle window. Incidents
    solved by their problem's fix are surveyed like any other solved ticket."""
    if snapshot.status.value != "solved":
        return Plan(False, "not_solved")
    if already_surveyed:
        return Plan(False, "already_surveyed")
    if snapshot.merged_into:
        return Plan(False, "merged")
    if snapshot.agent_replies == 0 and not snapshot.problem_id:
        # Auto-closed or self-served; an incident solved by a problem's fix is asked.
        return Plan(False, "no_human_answer")
    if last_csat_sent_at is not None and now - last_csat_sent_at < policy.csat_throttle:
        return Plan(False, "throttled")
    if not sampled(snapshot.ticket_id, policy.csat_sampling):
        return Plan(False, "not_sampled")
    return Plan(True, "eligible", now + policy.csat_delay)


def plan_nps(
    *, solved_tickets: int, last_nps_sent_at: datetime | None, now: datetime, policy: SurveyPolicy
) -> Plan:
    """NPS at most once per cadence, after the customer has had at least one solved ticket."""
    if solved_tickets < policy.nps_min_solved:
        return Plan(False, "no_solved_ticket")
    if last_nps_sent_at is not None and now - last_nps_sent_at < policy.nps_cadence:
        return Plan(False, "cadence")
    return Plan(True, "eligible", now + policy.csat_delay)


class AnswerRefused(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_score(kind: str, score: int) -> None:
    allowed = CSAT_RANGE if kind == "csat" else NPS_RANGE
    if score not in allowed:
        raise AnswerRefused(f"score must be {allowed.start}..{allowed.stop - 1} for {kind}")


def accept_answer(
    *,
    kind: str,
    score: int,
    first_answered_at: datetime | None,
    revision: int,
    now: datetime,
    policy: SurveyPolicy,
) -> int:
    """The revision this answer becomes: 1 the first time; the customer may change it
    within the grace period after the first answer, then it is final."""
    check_score(kind, score)
    if first_answered_at is None:
        return 1
    if now - first_answered_at > policy.answer_grace:
        raise AnswerRefused("already answered")
    return revision + 1


def needs_followup(kind: str, score: int) -> bool:
    """Quality control: CSAT 1–2, or an NPS detractor (0–6)."""
    return score <= 2 if kind == "csat" else score <= 6
