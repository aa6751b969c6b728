"""Known problems: who they affect, which messages they explain, what customers are told,
and how a ticket becomes (or stops being) an incident of one. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from s8_intake.domain.status import TransitionRefused
from s8_intake.domain.ticket import Change, TicketState, emit, status_event
from s8_shared.contracts import Channel, CustomerTier, Identity, Language, TicketStatus
from s8_shared.contracts.problems import (
    LocalizedText,
    NoticeKind,
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


@dataclass(frozen=True)
class IdPage:
    """Customer ids after a cursor, in order, read from one source (a page of it);
    `complete` when nothing follows them in that source."""

    ids: list[str]
    complete: bool


def next_recipients(pages: Sequence[IdPage], size: int) -> tuple[list[str], bool]:
    """The next `size` customer ids in order across several sources, and whether they are
    the last. A source cut short is only known up to its last id, so nothing beyond that id
    is taken yet (it comes in a later batch, once that source has been read further)."""
    if any(not page.complete and not page.ids for page in pages):
        raise ValueError("a page cut short must hold at least one id")
    bound = min((page.ids[-1] for page in pages if not page.complete), default=None)
    merged = sorted({i for page in pages for i in page.ids if bound is None or i <= bound})
    last = all(page.complete for page in pages) and len(merged) <= size
    return merged[:size], last


# --- what customers are told -----------------------------------------------------------
_STATUS_TEXT = {
    Language.VI: {
        ProblemStatus.INVESTIGATING: "chúng tôi đang kiểm tra",
        ProblemStatus.IDENTIFIED: "chúng tôi đã xác định được nguyên nhân và đang khắc phục",
        ProblemStatus.RESOLVED: "sự cố đã được khắc phục",
    },
    Language.EN: {
        ProblemStatus.INVESTIGATING: "we are investigating",
        ProblemStatus.IDENTIFIED: "we have found the cause and are fixing it",
        ProblemStatus.RESOLVED: "the problem is fixed",
    },
}


def notice(problem: ProblemSnapshot, kind: NoticeKind, language: Language) -> tuple[str, str]:
    """Subject and text of a proactive notice, in the customer's language."""
    title = problem.title.for_language(language)
    status = _STATUS_TEXT[language][problem.status]
    detail = (problem.last_message or problem.description).for_language(language)
    if kind == "resolved":
        detail = (problem.last_message or LocalizedText(vi=status, en=status)).for_language(
            language
        )
    if language == Language.VI:
        heads = {
            "declared": "Thông báo sự cố",
            "update": "Cập nhật sự cố",
            "resolved": "Sự cố đã được khắc phục",
        }
        text = (
            f"{heads[kind]}: {title}\n\nTình trạng: {status}.\n{detail}\n\n"
            "Quý khách không cần liên hệ thêm; chúng tôi sẽ báo khi có cập nhật."
            if kind != "resolved"
            else f"{heads[kind]}: {title}\n\n{detail}\n\nXin lỗi quý khách vì sự bất tiện."
        )
    else:
        heads = {"declared": "Service notice", "update": "Update", "resolved": "Resolved"}
        text = (
            f"{heads[kind]}: {title}\n\nStatus: {status}.\n{detail}\n\n"
            "No need to contact us about it; we will tell you when it changes."
            if kind != "resolved"
            else f"{heads[kind]}: {title}\n\n{detail}\n\nSorry for the inconvenience."
        )
    return f"{heads[kind]}: {title}", text


def incident_reply(problem: ProblemSnapshot, language: Language, routed: bool) -> str:
    """The immediate answer to a ticket linked to a known problem."""
    title = problem.title.for_language(language)
    status = _STATUS_TEXT[language][problem.status]
    if language == Language.VI:
        then = (
            "Một nhân viên sẽ liên hệ với quý khách."
            if routed
            else "Chúng tôi sẽ báo ngay khi khắc phục xong. Nếu cần hỗ trợ thêm, "
            "quý khách chỉ cần trả lời tin nhắn này."
        )
        return f"Chúng tôi đã biết sự cố: {title} — {status}.\n{then}"
    then = (
        "An agent will get back to you."
        if routed
        else "We will tell you as soon as it is fixed. If you need more help, just reply."
    )
    return f"We know about this problem: {title} — {status}.\n{then}"


_IDENTITY_CHANNEL: dict[str, Channel] = {
    "email": Channel.EMAIL,
    "phone": Channel.SMS,
    "zalo": Channel.SOCIAL,
    "facebook": Channel.SOCIAL,
    "instagram": Channel.SOCIAL,
    "x": Channel.SOCIAL,
}
# A notice nobody is waiting for suits a mailbox or a phone best; a chat visitor id is
# only worth trying when it is where the customer last wrote.
_FALLBACK_ORDER = ("email", "phone", "zalo", "facebook", "instagram", "x")


def contact_for(
    preferred: Channel | None,
    identities: Sequence[Identity],
    last_used: tuple[Channel, str] | None,
) -> tuple[Channel, str] | None:
    """Where to send a notice: the preferred channel if we have an address there, else
    the channel the customer last used, else their best-known identity."""
    by_channel: dict[Channel, str] = {}
    for kind in _FALLBACK_ORDER:
        for identity in identities:
            if identity.kind == kind:
                by_channel.setdefault(_IDENTITY_CHANNEL[kind], identity.value)
    if preferred is not None:
        if last_used is not None and last_used[0] == preferred:
            return last_used
        if preferred in by_channel:
            return preferred, by_channel[preferred]
        if preferred == Channel.PHONE and Channel.SMS in by_channel:
            return Channel.SMS, by_channel[Channel.SMS]
    if last_used is not None:
        return last_used
    for kind in _FALLBACK_ORDER:
        channel = _IDENTITY_CHANNEL[kind]
        if channel in by_channel:
            return channel, by_channel[channel]
    return None


# --- tickets as incidents --------------------------------------------------------------
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
