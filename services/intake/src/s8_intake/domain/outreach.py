"""What customers are told about a known problem, where, and in which order they are
reached (the outreach's batches). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from s8_shared.contracts import Channel, Identity, Language
from s8_shared.contracts.problems import LocalizedText, NoticeKind, ProblemSnapshot, ProblemStatus


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
