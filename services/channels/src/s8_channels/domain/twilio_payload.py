"""Twilio's webhooks as pure functions: the form body read within bounds, the signature
Twilio puts in `X-Twilio-Signature`, and an SMS or a call mapped to s8's inbound contracts.
No I/O: `twilio.py` does the HTTP.

Calls. Twilio requests the number's voice URL when a call comes in (`ringing`), a
`<Gather>` action mid-call (`in-progress`), and the status callback when the call is over
(`completed`, `busy`, `no-answer`, `canceled`, `failed`). Only the last says how the call
went, so a call is published once, at its terminal status, keyed by its CallSid; the other
requests are acknowledged. s8 keeps nothing between Twilio's requests: `Digits`,
`SpeechResult` and `TranscriptionText` are read from the terminal request when it carries
them (a flow that wants them in s8 forwards them there).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from s8_shared.contracts.inbound import (
    MAX_TEXT_CHARS,
    Attachment,
    PhoneCall,
    SmsMessage,
)

Params = Sequence[tuple[str, str]]  # as received: in order, a name may repeat

# Twilio's own requests carry about 40 parameters (an MMS with 10 media ~60).
MAX_FIELDS = 200
MAX_MEDIA = 100  # an SMS's attachments (Twilio sends at most 10)
TERMINAL = frozenset({"completed", "busy", "no-answer", "canceled", "failed"})
UNANSWERED = TERMINAL - {"completed"}
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
_KEYS = re.compile(r"^[0-9*#]{1,32}$")
_DEFAULT_PORTS = {"https": 443, "http": 80}


class FormError(ValueError):
    """A body that is not a bounded, UTF-8 `application/x-www-form-urlencoded` form."""


class Unmappable(ValueError):
    """A signed request that carries no message s8 can represent."""


@dataclass(frozen=True)
class Ignored:
    """A genuine request that is not (yet) a customer message; acknowledged."""

    reason: str


def parse_form(body: bytes, *, max_fields: int = MAX_FIELDS) -> list[tuple[str, str]]:
    """The form's fields in order; blank values kept (they are signed too)."""
    try:
        text = body.decode("utf-8")
        return parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=max_fields,
        )
    except UnicodeDecodeError as exc:
        raise FormError("the form is not UTF-8") from exc
    except ValueError as exc:  # more fields than max_num_fields
        raise FormError(str(exc)) from exc


def first(params: Params, name: str) -> str | None:
    return next((value for key, value in params if key == name), None)


def raw(params: Params) -> dict[str, Any]:
    """Every parameter as received; a repeated name keeps all its values, in order."""
    kept: dict[str, Any] = {}
    for name, value in params:
        if name not in kept:
            kept[name] = value
        elif isinstance(kept[name], list):
            kept[name].append(value)
        else:
            kept[name] = [kept[name], value]
    return kept


# --- signature ---------------------------------------------------------------------------


def signed_url(public_base_url: str, raw_path: str, query: str) -> str:
    """The URL Twilio called: the public base (not the address a proxy forwarded to), the
    path and the query string exactly as sent."""
    return public_base_url.rstrip("/") + raw_path + (f"?{query}" if query else "")


def signature(auth_token: str, url: str, params: Params) -> str:
    """base64(HMAC-SHA1(auth token, URL + each name and value, sorted by name)). Values of
    a repeated name are sorted and deduplicated, as Twilio's own libraries do."""
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    text = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    digest = hmac.new(auth_token.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _port_variants(url: str) -> list[str]:
    """The URL, and the same with its scheme's default port added or removed: Twilio's
    libraries accept both, since a proxy may or may not show the port."""
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme)
    host = parts.hostname or ""
    if default is None or not host or parts.username is not None:
        return [url]
    if parts.port is None:
        other = f"{parts.netloc}:{default}"
    elif parts.port == default:
        other = parts.netloc.rsplit(":", 1)[0]
    else:
        return [url]
    return [url, urlunsplit(parts._replace(netloc=other))]


def verify(auth_token: str, url: str, params: Params, given: str) -> bool:
    """Whether `given` is Twilio's signature of this request; compared in constant time."""
    offered = given.strip().encode()
    matches = [
        hmac.compare_digest(signature(auth_token, candidate, params).encode(), offered)
        for candidate in _port_variants(url)
    ]
    return any(matches)


# --- mapping -----------------------------------------------------------------------------


def _bounded_count(value: str | None, most: int) -> int:
    try:
        return max(0, min(int(value or "0"), most))
    except ValueError:
        return 0


def _media_name(url: str, content_type: str) -> str:
    # Twilio's media URL ends with the media SID (ME...): a stable name; the extension
    # comes from its content type.
    tail = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or "media"
    extension = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ""
    return (tail + extension)[:512]


def attachments(params: Params) -> list[Attachment]:
    """`NumMedia` media as metadata (Twilio keeps the files; fetching needs the account)."""
    found = []
    for index in range(_bounded_count(first(params, "NumMedia"), MAX_MEDIA)):
        url = first(params, f"MediaUrl{index}")
        if not url:
            continue
        content_type = first(params, f"MediaContentType{index}") or "application/octet-stream"
        found.append(
            Attachment(
                filename=_media_name(url, content_type),
                content_type=content_type[:512],
                url=url if len(url) <= 2048 else None,
            )
        )
    return found


def sms_message(params: Params) -> SmsMessage:
    """An incoming SMS/MMS; ValueError (Unmappable or a validation error) if it is none."""
    sid = first(params, "MessageSid") or first(params, "SmsMessageSid") or first(params, "SmsSid")
    sender = (first(params, "From") or "").strip()
    if not sid or not sender:
        raise Unmappable("an SMS needs MessageSid and From")
    return SmsMessage(
        channel_message_id=sid,
        from_number=sender,
        to_number=(first(params, "To") or "").strip(),
        text=first(params, "Body") or "",
        attachments=attachments(params),
        raw=raw(params),
    )


def _received_at(params: Params) -> datetime | None:
    """Status callbacks carry `Timestamp` (RFC 2822); the other requests do not."""
    stamp = first(params, "Timestamp")
    if not stamp:
        return None
    try:
        when = parsedate_to_datetime(stamp)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else None


def _text(value: str | None) -> str | None:
    text = (value or "").strip()
    return text[:MAX_TEXT_CHARS] or None


def phone_call(params: Params) -> PhoneCall | Ignored:
    """A customer's call at its terminal status; Ignored before it ends or when s8 placed
    it. Busy, no-answer, canceled and failed calls, and completed ones that lasted no
    second, are missed (a call to return); a completed call with a duration was answered."""
    direction = first(params, "Direction") or ""
    if direction != "inbound":
        return Ignored(f"not an inbound call ({direction or 'no Direction'})")
    status = first(params, "CallStatus") or ""
    if status not in TERMINAL:
        return Ignored(f"call not over yet ({status or 'no CallStatus'})")
    sid = first(params, "CallSid")
    caller = (first(params, "From") or "").strip()
    if not sid or not caller:
        raise Unmappable("a call needs CallSid and From")
    seconds = _bounded_count(first(params, "CallDuration"), 10**7)
    answered = status == "completed" and seconds > 0
    digits = (first(params, "Digits") or "").strip()
    dialled = (first(params, "To") or "").strip()
    return PhoneCall(
        channel_message_id=sid,
        received_at=_received_at(params),
        caller_number=caller,
        caller_name=(_text(first(params, "CallerName")) or "")[:200] or None,
        dialled_line=dialled if len(dialled) <= 32 else "",  # a long SIP URI stays in raw
        ivr_path=digits if _KEYS.match(digits) else "",  # "hangup" and the like stay in raw
        duration_seconds=seconds if answered else 0,
        missed=not answered,
        voicemail_transcript=_text(first(params, "TranscriptionText")),
        notes=_text(first(params, "SpeechResult")),
        raw=raw(params),
    )
