"""A parsed mail's MIME tree read within bounds: its text and HTML bodies and its attachments'
metadata, with charsets decoded leniently. Pure.

The tree comes from the standard library's parser with a `compat32`-based policy (see
`mime.py`), so this module reproduces what `EmailMessage.get_body()` and `iter_attachments()`
do, over string headers, each walk capped in parts and depth.
"""

from __future__ import annotations

import codecs
import email.policy
import mimetypes
import re
from collections.abc import Iterator
from email.message import Message

from s8_shared.contracts.inbound import MAX_HTML_CHARS, MAX_TEXT_CHARS, Attachment

MAX_PARTS = 250  # parts looked at per walk: a real mail has a few dozen at most
MAX_DEPTH = 20  # multipart nesting followed
MAX_ATTACHMENTS = 100  # the contract's limit
MAX_FILENAME_CHARS = 255
MAX_WORDS_CHARS = 4096  # of a header decoded: the decoder's time grows faster than its input
# Codecs that must never see a mail's bytes: punycode decodes in quadratic time.
_REFUSED_CODECS = frozenset({"punycode", "idna"})
_BODY_TYPES = frozenset({"text/plain", "text/html", "multipart/related", "multipart/alternative"})
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FOLD = re.compile(r"\r\n|\r|\n")


def clean(text: str) -> str:
    """Lone surrogates (from undecodable bytes) replaced: the JSON encoder refuses them."""
    return text.encode("utf-8", "replace").decode("utf-8")


def utf8(text: str) -> str:
    """A header's raw value with its 8-bit bytes (kept by the parser as surrogate escapes)
    read as UTF-8: what SMTPUTF8 mail and many careless mailers send."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:  # a surrogate that is no escaped byte
        return clean(text)


def one_line(text: str) -> str:
    """Folded or control characters out of a header's value, whitespace collapsed."""
    return " ".join(_CONTROL.sub(" ", _FOLD.sub(" ", text)).split())


def decode_words(text: str) -> str:
    """A header's text with its RFC 2047 encoded words (`=?utf-8?B?...?=`) decoded and raw
    8-bit bytes read as UTF-8."""
    text = one_line(utf8(text[:MAX_WORDS_CHARS]))
    try:
        decoded = str(email.policy.default.header_factory("subject", text))
    except Exception:  # hostile input: the raw text is the best effort
        decoded = text
    return one_line(clean(decoded))


def decode_bytes(data: bytes, charset: str | None, max_chars: int) -> str:
    """At most `max_chars` characters of `data`, never failing on a charset: an unknown or
    refused one reads as UTF-8, undecodable bytes as U+FFFD."""
    codec = _codec(charset)
    # UTF-8 and UTF-32 spend at most 4 bytes a character: the cut still fills max_chars.
    head = data[: max_chars * 4 + 4]
    try:
        text = head.decode(codec, errors="replace")
    except (LookupError, UnicodeError):  # "undefined" refuses even with errors="replace"
        text = head.decode("utf-8", errors="replace")
    return clean(text[:max_chars])


def _codec(charset: str | None) -> str:
    if not charset:
        return "utf-8"
    try:
        name = codecs.lookup(charset.strip()[:64]).name
        b"".decode(name)  # LookupError for the non-text codecs (base64, zlib, rot13...)
    except (LookupError, ValueError):
        return "utf-8"
    return "utf-8" if name in _REFUSED_CODECS else name


def content_type(part: Message) -> tuple[str, str]:
    maintype, _, subtype = part.get_content_type().partition("/")
    return maintype, subtype


def _is_attachment(part: Message) -> bool:
    return part.get_content_disposition() == "attachment"


def _children(part: Message) -> list[Message]:
    if not part.is_multipart():
        return []
    payload = part.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _related_start(part: Message, children: list[Message]) -> Message | None:
    """The root part of a multipart/related: the one its `start` names, or the first."""
    start = part.get_param("start")
    if isinstance(start, str) and start:
        for child in children:
            if child.get("content-id") == start:
                return child
    return children[0] if children else None


def find_body(root: Message, subtype: str) -> Message | None:
    """The first inline text/<subtype> part, as `EmailMessage.get_body((subtype,))` finds it:
    not inside an attached message, only the root part of a multipart/related."""
    stack: list[tuple[Message, int]] = [(root, 0)]
    for _ in range(MAX_PARTS):
        if not stack:
            return None
        part, depth = stack.pop()
        if _is_attachment(part):
            continue
        maintype, sub = content_type(part)
        if maintype == "text":
            if sub == subtype:
                return part
            continue
        if maintype != "multipart" or depth >= MAX_DEPTH:
            continue
        children = _children(part)
        if sub == "related":
            start = _related_start(part, children)
            children = [start] if start is not None else []
        stack.extend((child, depth + 1) for child in reversed(children))
    return None


def body_text(part: Message | None, max_chars: int) -> str | None:
    if part is None:
        return None
    try:
        payload = part.get_payload(decode=True)
        charset = part.get_content_charset()
    except Exception:  # a body that does not decode is lost, not the mail
        return None
    if not isinstance(payload, bytes):
        return None
    text = decode_bytes(payload, charset, max_chars * 2)
    # Mail's CRLF line ends as "\n", as every other channel's text has them.
    return text.replace("\r\n", "\n").replace("\r", "\n")[:max_chars]


def bodies(root: Message) -> tuple[str | None, str | None]:
    """The text/plain and text/html bodies, each cut to the contract's limit."""
    return (
        body_text(find_body(root, "plain"), MAX_TEXT_CHARS),
        body_text(find_body(root, "html"), MAX_HTML_CHARS),
    )


def _attachment_parts(part: Message) -> Iterator[Message]:
    """`EmailMessage.iter_attachments()` over string headers: a multipart's parts that are
    not its body (nor, in a multipart/related, its root part)."""
    maintype, subtype = content_type(part)
    if maintype != "multipart" or subtype == "alternative":
        return
    children = _children(part)
    if subtype == "related":
        start = _related_start(part, children)
        yield from (child for child in children if child is not start)
        return
    seen: set[str] = set()
    for child in children:
        kind = "/".join(content_type(child))
        if kind in _BODY_TYPES and not _is_attachment(child) and kind not in seen:
            seen.add(kind)
            continue
        yield child


def attachments(root: Message) -> list[Attachment]:
    """Metadata of the attachments, also those inside a nested multipart/mixed (a forward
    with its own attachments); the content is not kept."""
    found: list[Attachment] = []
    stack: list[tuple[Iterator[Message], int]] = [(_attachment_parts(root), 0)]
    looked = 0
    while stack and len(found) < MAX_ATTACHMENTS and looked < MAX_PARTS:
        parts, depth = stack[-1]
        part = next(parts, None)
        if part is None:
            stack.pop()
            continue
        looked += 1
        if content_type(part)[0] == "multipart":
            if depth < MAX_DEPTH:
                stack.append((_attachment_parts(part), depth + 1))
            continue
        found.append(_metadata(part, len(found) + 1))
    return found


def _metadata(part: Message, number: int) -> Attachment:
    kind = "/".join(content_type(part))[:200]
    return Attachment(
        filename=_filename(part) or f"attachment-{number}{_extension(kind)}",
        content_type=kind,
        size_bytes=_size(part),
    )


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # a broken name loses the name, not the attachment
        return None
    if not name:
        return None
    # Only the last path segment: a name like "../../x" is a name, not a place.
    base = re.split(r"[\\/]", one_line(decode_words(str(name))))[-1].strip()
    return base[:MAX_FILENAME_CHARS] or None


def _extension(kind: str) -> str:
    if kind == "message/rfc822":
        return ".eml"
    return mimetypes.guess_extension(kind, strict=False) or ".bin"


def _size(part: Message) -> int:
    """Bytes of the decoded content (of the whole message, for an attached message)."""
    try:
        if part.is_multipart():
            return len(part.as_bytes())
        payload = part.get_payload(decode=True)
    except Exception:  # a part that does not decode has no known size
        return 0
    return len(payload) if isinstance(payload, bytes) else 0
