"""A raw RFC 5322 mail read into the `EmailMessage` contract. Pure: no I/O.

Hostile input is normal input here: every step is bounded, and a mail that cannot be read
raises `UnreadableMail` (with a reason fit for an SMTP reply), never another exception.

The standard library parses, with a `compat32`-based policy whose header values are cut
before anything parses them. `policy.default` was measured unfit for hostile mail: it parses
every MIME header with `_header_value_parser`, about 250 µs a part (800,000 empty parts: over
9 minutes) and in quadratic time on crafted values (16 KB of `"` in a To header: 6.5 s;
700,000 encoded words in a Subject: over 2 minutes). Its header decoder is still used, on
values cut to a few KB, for subjects, names and filenames (`mime_parts.decode_words`).
"""

from __future__ import annotations

import email
import email.utils
import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.message import Message
from email.policy import Compat32
from typing import Any

from pydantic import ValidationError

from s8_channels.domain.mime_parts import attachments, bodies, decode_words, one_line, utf8
from s8_shared.contracts.inbound import EmailAddress, EmailMessage

MAX_DELIMITER_LINES = 10_000  # lines starting with "--": a bound on MIME parts, before parsing
MAX_HEADER_CHARS = 8192  # of any header value the parser reads
MAX_PARAMS = 32  # `;`-separated parameters read in a Content-Type or Content-Disposition
MAX_ADDRESS_CHARS = 16_384  # of From, To, Cc, Reply-To (100 named recipients fit)
MAX_ADDRESS_TRIES = 300  # addresses validated in one header
MAX_ADDRESSES = 100  # the contract's limit for To and Cc
MAX_REFERENCES = 200  # the contract's limit
MAX_REFERENCES_CHARS = 65_536  # of the References header read
MAX_ID_CHARS = 998  # the contract's limit for a Message-ID
MAX_SUBJECT_CHARS = 998
MAX_NAME_CHARS = 200
MAX_KEPT_HEADER_CHARS = 998
FUTURE_DATE_SLACK = timedelta(days=1)  # a Date further ahead is a wrong clock: ignored

# What intake reads to skip auto-replies, bounces and mail loops, and what tells them apart.
KEPT_HEADERS = (
    "Auto-Submitted",
    "Precedence",
    "X-Autoreply",
    "X-Autorespond",
    "X-Auto-Response-Suppress",
    "Return-Path",
    "X-Failed-Recipients",
    "List-Id",
    "X-Loop",
)
_READ = frozenset(
    {"from", "reply-to", "to", "cc", "subject", "message-id", "in-reply-to", "references"}
    | {"date", "content-type"}
    | {name.lower() for name in KEPT_HEADERS}
)
_MSG_ID = re.compile(r"<[^<>\s]{1,996}>")


class UnreadableMail(Exception):
    """A mail s8 cannot take: the reason is short, ASCII and one line (for `550 5.6.0`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _BoundedPolicy(Compat32):
    """compat32 (string headers), each value cut before the library parses it: its
    parameter parser costs a few µs per `;`, and a part's headers are read several times."""

    def header_fetch_parse(self, name: str, value: str) -> str | Header:  # type: ignore[override]
        value = value[:MAX_HEADER_CHARS]
        if name.lower() in ("content-type", "content-disposition"):
            value = _first_params(value)
        return super().header_fetch_parse(name, value)


def _first_params(value: str) -> str:
    end = -1
    for _ in range(MAX_PARAMS + 1):
        end = value.find(";", end + 1)
        if end < 0:
            return value
    return value[:end]


_POLICY = _BoundedPolicy()


def parse_mail(
    raw: bytes,
    *,
    max_bytes: int,
    envelope_sender: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """The contract message of a raw mail, or `UnreadableMail`.

    `envelope_sender` is SMTP's `MAIL FROM` (empty for a bounce): the receiving server's
    `Return-Path`, which a mail relayed to s8 does not carry yet.
    """
    if len(raw) > max_bytes:
        raise UnreadableMail(f"mail larger than {max_bytes} bytes")
    if not raw.strip():
        raise UnreadableMail("empty mail")
    if raw.count(b"\n--") + raw.count(b"\r--") > MAX_DELIMITER_LINES:
        raise UnreadableMail("too many MIME parts")
    try:
        return _parse(raw, envelope_sender, now or datetime.now(UTC))
    except UnreadableMail:
        raise
    except RecursionError as error:
        raise UnreadableMail("MIME structure nested too deeply") from error
    except Exception as error:  # the last guard: hostile input finds the library's corners
        raise UnreadableMail(f"unparseable mail ({type(error).__name__})") from error


def _parse(raw: bytes, envelope_sender: str | None, now: datetime) -> EmailMessage:
    mail = email.message_from_bytes(raw, policy=_POLICY)
    heads = _top_headers(mail)
    sender = _first(_addresses(heads.get("from", [])))
    if sender is None:
        raise UnreadableMail("no readable From address")
    text, html = bodies(mail)
    kept = {
        name: one_line(utf8(values[0][:MAX_HEADER_CHARS]))[:MAX_KEPT_HEADER_CHARS]
        for name in KEPT_HEADERS
        if (values := heads.get(name.lower()))
    }
    content_type = mail.get_content_type()
    if content_type == "multipart/report":  # a delivery status notification (a bounce)
        kept["Content-Type"] = one_line(utf8(str(mail.get("content-type"))))[:998]
    if envelope_sender is not None:
        kept["Return-Path"] = f"<{one_line(envelope_sender).strip('<>')[:900]}>"
    in_reply_to = _ids(heads.get("in-reply-to", []), bare=True)
    data: dict[str, Any] = {
        "channel_message_id": _message_id(heads) or _synthetic_id(raw),
        "from": sender,
        "reply_to": _first(_addresses(heads.get("reply-to", []))),
        "to": _addresses(heads.get("to", [])),
        "cc": _addresses(heads.get("cc", [])),
        "subject": _subject(heads),
        "text": text,
        "html": html,
        "in_reply_to": in_reply_to[0] if in_reply_to else None,
        "references": _references(heads.get("references", [])),
        "headers": kept,
        "attachments": attachments(mail),
        "received_at": _date(heads.get("date", []), now),
    }
    try:
        return EmailMessage.model_validate(data)
    except ValidationError as error:  # a bound above is missing; say which field
        where = ".".join(str(p) for p in error.errors()[0]["loc"])
        raise UnreadableMail(f"mail does not fit the contract ({where[:60]})") from error


def _top_headers(mail: Message) -> dict[str, list[str]]:
    """The raw values of the headers read, by lower-cased name (read once, unparsed)."""
    heads: dict[str, list[str]] = {}
    for name, value in mail.raw_items():
        key = name.lower()
        if key in _READ and len(heads.setdefault(key, [])) < 10:
            heads[key].append(str(value))
    return heads


def _addresses(values: Iterable[str]) -> list[EmailAddress]:
    """The valid addresses of address headers (invalid ones dropped), at most 100."""
    found: list[EmailAddress] = []
    seen: set[str] = set()
    for raw in values:
        try:
            pairs = email.utils.getaddresses([one_line(utf8(raw[:MAX_ADDRESS_CHARS]))])
        except Exception:  # e.g. RecursionError on nested comments: this header is lost
            continue
        for name, address in pairs[:MAX_ADDRESS_TRIES]:
            parsed = _address(name, address)
            if parsed is not None and parsed.address.lower() not in seen:
                seen.add(parsed.address.lower())
                found.append(parsed)
                if len(found) >= MAX_ADDRESSES:
                    return found
    return found


def _address(name: str, address: str) -> EmailAddress | None:
    if "@" not in address or len(address) > 320:
        return None
    display = decode_words(name)[:MAX_NAME_CHARS].strip() if name else ""
    try:
        return EmailAddress(address=address, name=display or None)
    except ValidationError:
        return None


def _first(addresses: list[EmailAddress]) -> EmailAddress | None:
    return addresses[0] if addresses else None


def _subject(heads: dict[str, list[str]]) -> str:
    values = heads.get("subject")
    return decode_words(values[0])[:MAX_SUBJECT_CHARS] if values else ""


def _ids(values: list[str], *, bare: bool, max_chars: int = MAX_HEADER_CHARS) -> list[str]:
    """`<...>` message ids of a header; with `bare`, a lone `id@host` token counts as one."""
    if not values:
        return []
    text = one_line(utf8(values[0][:max_chars]))
    found = _MSG_ID.findall(text)
    if not found and bare:
        token = text.split(" ", 1)[0].strip("<>")
        if "@" in token and len(token) <= MAX_ID_CHARS - 2:
            found = [f"<{token}>"]
    return found


def _message_id(heads: dict[str, list[str]]) -> str | None:
    found = _ids(heads.get("message-id", []), bare=True)
    return found[0] if found else None


def _synthetic_id(raw: bytes) -> str:
    """The same mail gets the same id, so that a re-delivery is still stored once."""
    return f"<{hashlib.sha256(raw).hexdigest()}@s8.invalid>"


def _references(values: list[str]) -> list[str]:
    """Unique ids, in order; past the limit the thread's root and the latest ones."""
    found = list(dict.fromkeys(_ids(values, bare=False, max_chars=MAX_REFERENCES_CHARS)))
    if len(found) > MAX_REFERENCES:
        found = [found[0], *found[-(MAX_REFERENCES - 1) :]]
    return found


def _date(values: list[str], now: datetime) -> datetime | None:
    """The Date header when it is readable, has a zone, and is not in the future."""
    if not values:
        return None
    try:
        when = email.utils.parsedate_to_datetime(one_line(values[0][:200]))
    except Exception:  # unreadable dates are common; the time of intake stands in
        return None
    if when.tzinfo is None or when.utcoffset() is None:
        return None
    when = when.astimezone(UTC)
    return when if when <= now + FUTURE_DATE_SLACK else None
