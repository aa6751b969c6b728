"""Known problems: who they affect, which messages they explain, what customers are told,
and how a ticket becomes (or stops being) an incident of one. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from s8_intake.domain.status import TransitionRefused
from s8_intake.domain.ticket import Change, TicketState, emit, status_event
from s8_shared.contracts import CustomerTier, Language, TicketStatus
from s8_shared.contracts.problems import (
    ProblemDeclaration,
    ProblemSegment,
    ProblemSnapshot,
    ProblemStatus,
    ProblemUpdate,
)
from s8_shared.contracts.tickets import TicketProblemLinked, TicketProblemUnlinked
from s8_shared.nlp.text import contains_phrase, fold, words

S = TicketStatus


class ProblemRefused(ValueError):
    """A change the problem's state does not allow; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- the problem itself ----------------------------------------------------------------
def declare(decl: ProblemDeclaration, problem_id: str, now: datetime) -> ProblemSnapshot:
    if decl.status == ProblemStatus.RESOLVED:
        raise ProblemRefused("a problem cannot be declared resolved; declare it, then resolve it")
    return ProblemSnapshot(
        problem_id=problem_id,
        title=decl.title,
        description=decl.description,
        segment=decl.segment,
        keywords=_clean(decl.keywords),
        categories=_clean(decl.categories),
        status=decl.status,
        incident_routing=decl.incident_routing,
        update_seq=1,
        started_at=decl.started_at or now,
        declared_at=now,
        declared_by=decl.declared_by,
        updated_at=now,
    )


def update(problem: ProblemSnapshot, change: ProblemUpdate, now: datetime) -> ProblemSnapshot:
    """The problem after `change`; a resolved problem is final (declare a new one)."""
    if problem.status == ProblemStatus.RESOLVED:
        raise ProblemRefused("the problem is resolved; declare a new problem if it came back")
    fields: dict[str, Any] = {"update_seq": problem.update_seq + 1, "updated_at": now}
    if change.status is not None:
        fields["status"] = change.status
        if change.status == ProblemStatus.RESOLVED:
            fields["resolved_at"] = now
    if change.message is not None:
        fields["last_message"] = change.message
    if change.segment is not None:
        fields["segment"] = change.segment
    if change.keywords is not None:
        fields["keywords"] = _clean(change.keywords)
    if change.categories is not None:
        fields["categories"] = _clean(change.categories)
    if change.incident_routing is not None:
        fields["incident_routing"] = change.incident_routing
    if len(fields) == 2:
        raise ProblemRefused("nothing to change: give a status, a message or new matching data")
    return problem.model_copy(update=fields)


def _clean(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


# --- who is affected -------------------------------------------------------------------
@dataclass(frozen=True)
class CustomerFacts:
    customer_id: str
    tier: CustomerTier = CustomerTier.STANDARD
    region: str | None = None
    products: tuple[str, ...] = ()
    language: Language | None = None


def _key(text: str) -> str:
    """Regions and models compare without accents, case or spaces: "Hà Nội" = "ha noi"."""
    return fold(text).replace(" ", "").replace("-", "")


def affects(segment: ProblemSegment, customer: CustomerFacts) -> bool:
    if customer.customer_id in segment.customer_ids:
        return True
    if segment.all_customers:
        return True
    criteria = (segment.regions, segment.products, segment.tiers)
    if not any(criteria):
        return False  # only explicit customer ids, and this one is not listed
    if segment.regions and (
        customer.region is None or _key(customer.region) not in {_key(r) for r in segment.regions}
    ):
        return False
    if segment.products and not (
        {_key(p) for p in customer.products} & {_key(p) for p in segment.products}
    ):
        return False
    return not segment.tiers or customer.tier in segment.tiers


def explains(
    problem: ProblemSnapshot, text: str, subject: str | None, category: str | None
) -> str | None:
    """Why a message is about this problem ("keyword: …", "category: …"), or None.

    A problem with neither keywords nor categories never links on its own: an affected
    customer may write about something else entirely."""
    haystack = words(f"{subject or ''}\n{text}")
    for keyword in problem.keywords:
        if contains_phrase(haystack, keyword):
            return f"keyword: {keyword}"
    if category and category in problem.categories:
        return f"category: {category}"
    return None


def routes_incident(problem: ProblemSnapshot, tier: CustomerTier) -> bool:
    """Does a linked incident still go to an agent right away?"""
    if problem.incident_routing == "always":
        return True
    return problem.incident_routing == "vip" and tier == CustomerTier.VIP


def link_incident(
    state: TicketState,
    problem: ProblemSnapshot,
    now: datetime,
    *,
    by: str,
    actor_id: str | None = None,
    hold: bool = False,
) -> Change:
    """The ticket becomes an incident of `problem`; `hold` parks a new ticket as pending
    (waiting on the fix, not on an agent) until the customer writes again."""
    old = state.snapshot
    if old.status == S.CLOSED:
        raise TransitionRefused("a closed ticket cannot be linked to a problem")
    if problem.status == ProblemStatus.RESOLVED:
        raise TransitionRefused(f"problem {problem.problem_id} is already resolved")
    if old.problem_id == problem.problem_id:
        raise TransitionRefused(f"the ticket is already linked to {problem.problem_id}")
    status = S.PENDING if hold and old.status == S.NEW else old.status
    snap = old.model_copy(
        update={
            "version": old.version + 1,
            "problem_id": problem.problem_id,
            "status": status,
            "updated_at": now,
        }
    )
    events: list[Any] = [
        emit(
            TicketProblemLinked, snap, now, problem_id=problem.problem_id, by=by, actor_id=actor_id
        )
    ]
    if status != old.status:
        events.append(status_event(old.status, snap, now, "known_problem", actor_id))
    return Change(replace(state, snapshot=snap), events)


def unlink_incident(state: TicketState, now: datetime, actor_id: str | None) -> Change:
    """The ticket is not about the problem after all: a ticket parked for the fix goes
    back to the agents' queue."""
    old = state.snapshot
    if old.problem_id is None:
        raise TransitionRefused("the ticket is not linked to a problem")
    if old.status == S.CLOSED:
        raise TransitionRefused("a closed ticket cannot change")
    parked = old.status == S.PENDING and old.agent_replies == 0 and not old.deflected
    status = S.OPEN if parked else old.status
    snap = old.model_copy(
        update={"version": old.version + 1, "problem_id": None, "status": status, "updated_at": now}
    )
    events: list[Any] = [
        emit(
            TicketProblemUnlinked,
            snap,
            now,
            problem_id=old.problem_id,
            by="agent",
            actor_id=actor_id,
        )
    ]
    if status != old.status:
        events.append(status_event(old.status, snap, now, "unlinked_from_problem", actor_id))
    return Change(replace(state, snapshot=snap), events)
