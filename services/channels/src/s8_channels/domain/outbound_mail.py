"""The e-mail s8 sends for an outbound request. Pure.

- Subject: the request's, or a default in its language; it always carries the ticket's
  `[#T-…]` token when there is a ticket, which intake reads to thread the customer's reply.
- Message-ID from the outbound id: a retry after a crash sends the same id, so mail clients
  and intake see one message, not two.
- In-Reply-To and References name the customer's mail being answered (e-mail requests only:
  a web form's submission id is no Message-ID).
- Auto-Submitted: auto-generated (RFC 3834) on everything but an agent's reply, and
  X-Auto-Response-Suppress for Exchange, so customers' auto-responders do not answer s8's
  automatic mail (and intake does not open tickets for their answers).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime

from s8_shared.contracts import Channel, Language, OutboundMessagePayload

DEFAULT_SUBJECTS = {
    Language.EN: "Your support request",
    Language.VI: "Yêu cầu hỗ trợ của bạn",
}
_ID_LEFT = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_WHITESPACE = re.compile(r"\s+")


def ticket_token(ticket_id: str) -> str:
    return f"[#{ticket_id}]"


def subject_for(request: OutboundMessagePayload) -> str:
    """The request's subject (one line) or the default, with the ticket token appended
    unless it is there already."""
    subject = _WHITESPACE.sub(" ", request.subject or "").strip()
    subject = subject or DEFAULT_SUBJECTS.get(request.language, DEFAULT_SUBJECTS[Language.EN])
    if request.ticket_id:
        token = ticket_token(request.ticket_id)
        if token.lower() not in subject.lower():
            subject = f"{subject} {token}"
    return subject


def message_id_for(outbound_id: str, mail_from: str) -> str:
    """`<outbound_id@domain of mail_from>`; an id with characters a Message-ID cannot hold
    is replaced by its SHA-256 (still the same for every retry)."""
    left = outbound_id if _ID_LEFT.match(outbound_id) else _digest(outbound_id)
    domain = mail_from.rpartition("@")[2].strip().strip(">") or "localhost"
    return f"<{left}@{domain}>"


def msg_id(value: str | None) -> str | None:
    """A Message-ID in angle brackets, whether or not it was stored with them."""
    value = _WHITESPACE.sub("", value or "")
    if not value:
        return None
    return value if value.startswith("<") and value.endswith(">") else f"<{value.strip('<>')}>"


def build_mail(
    request: OutboundMessagePayload,
    *,
    mail_from: str,
    from_name: str,
    now: datetime,
) -> EmailMessage:
    mail = EmailMessage(policy=default)
    mail["From"] = Address(display_name=from_name, addr_spec=mail_from)
    mail["To"] = request.to.strip()
    mail["Subject"] = subject_for(request)
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = message_id_for(request.outbound_id, mail_from)
    replied = msg_id(request.reply_to_message_id) if request.channel == Channel.EMAIL else None
    if replied is not None:
        mail["In-Reply-To"] = replied
        mail["References"] = replied
    if request.kind != "reply":
        mail["Auto-Submitted"] = "auto-generated"
        mail["X-Auto-Response-Suppress"] = "All"
    # Quoted-printable when not ASCII: 7-bit safe through any relay, still readable raw
    # (ASCII: the library picks 7bit, or an encoding when a line is too long for SMTP).
    cte = None if request.text.isascii() else "quoted-printable"
    mail.set_content(request.text, charset="utf-8", cte=cte)
    return mail


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:40]
