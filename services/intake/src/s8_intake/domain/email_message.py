"""An inbound email in the one shape, `NormalizedMessage`: its text (plain, or converted
from HTML, without the quoted reply), threading references, the ticket token in a reply's
subject, and why it must not become a ticket (auto-replies, bounces, mail loops). Pure."""

from __future__ import annotations

import re

from s8_intake.domain.html_text import convert_html, strip_quoted_reply
from s8_intake.domain.identities import identity_for_email, normalize_email, unique
from s8_intake.domain.model import NormalizedMessage
from s8_shared.contracts.inbound import MAX_TEXT_CHARS, EmailMessage

NO_TEXT = "(no text)"
_TICKET_TOKEN = re.compile(r"\[#(T-[0-9a-f]{16})\]", re.IGNORECASE)
_AUTO_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_SYSTEM_SENDERS = frozenset(
    {"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply"}
)


def email_message(message: EmailMessage, own_addresses: frozenset[str]) -> NormalizedMessage:
    sender = normalize_email(message.from_.address)
    has_plain = bool(message.text and message.text.strip())
    if has_plain:
        body = message.text or ""
        cut_from = len(body) if len(body) > MAX_TEXT_CHARS else None
    else:  # conversion stops past the limit: the cut is recorded as the HTML body's size
        body, stopped = convert_html(message.html or "", limit=MAX_TEXT_CHARS)
        cut_from = len(message.html or "") if stopped or len(body) > MAX_TEXT_CHARS else None
    # Cut before the quote search, so that every step reads at most MAX_TEXT_CHARS.
    text = strip_quoted_reply(body[:MAX_TEXT_CHARS]).strip() or message.subject.strip() or NO_TEXT
    return NormalizedMessage(
        channel=message.channel_kind,
        dedup_key=message.dedup_key(),
        sent_at=message.received_at,
        text=text,
        text_cut_from=cut_from,
        identities=unique([identity_for_email(sender)]),
        display_name=message.from_.name,
        subject=message.subject or None,
        thread_refs=_thread_refs(message),
        ticket_token=ticket_token(message.subject),
        attachments=tuple(a.filename for a in message.attachments),
        # Answers go where the sender asked (a shared mailbox, a helpdesk relay).
        reply_address=normalize_email(message.reply_to.address) if message.reply_to else sender,
        public=True,
        skip_reason=email_skip_reason(message, own_addresses),
        details={
            k: v
            for k, v in (
                ("cc", [normalize_email(a.address) for a in message.cc]),
                ("to", [normalize_email(a.address) for a in message.to]),
            )
            if v
        },
    )


def ticket_token(subject: str) -> str | None:
    """The `T-...` id from a `[#T-0123456789abcdef]` token in a reply's subject."""
    found = _TICKET_TOKEN.search(subject)
    return "T-" + found.group(1)[2:].lower() if found else None


def email_skip_reason(message: EmailMessage, own_addresses: frozenset[str]) -> str | None:
    """Why this email must not become a ticket (auto-reply, bounce, mail loop), or None."""
    headers = {name.lower(): value.strip() for name, value in message.headers.items()}
    sender = normalize_email(message.from_.address)
    if sender in {normalize_email(a) for a in own_addresses}:
        return f"mail loop: sent from s8's own address {sender}"
    if "return-path" in headers and headers["return-path"] in ("", "<>"):
        return "bounce: empty Return-Path"
    if sender.split("@", 1)[0] in _SYSTEM_SENDERS:
        return f"system sender {sender}"
    auto_submitted = headers.get("auto-submitted")
    if auto_submitted is not None and auto_submitted.lower() != "no":
        return f"auto-reply: Auto-Submitted: {auto_submitted}"
    precedence = headers.get("precedence", "").lower()
    if precedence in _AUTO_PRECEDENCE:
        return f"auto-reply: Precedence: {precedence}"
    for name in ("x-autoreply", "x-autorespond"):
        if name in headers and headers[name].lower() not in ("no", "false", "0"):
            return f"auto-reply: {name} header"
    suppress = headers.get("x-auto-response-suppress", "").lower()
    if suppress == "all" or "oof" in suppress or "autoreply" in suppress:
        return f"auto-reply: X-Auto-Response-Suppress: {suppress}"
    return None


def _thread_refs(message: EmailMessage) -> tuple[str, ...]:
    refs = [message.in_reply_to or "", *message.references]
    return tuple(dict.fromkeys(r.strip() for r in refs if r.strip()))
