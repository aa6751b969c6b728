"""The one bounded copy of an original message that a dead letter carries."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

# The head of the original a dead letter carries: far below the producer's 1 MiB limit even
# base64-encoded, with room for the reason, key and headers (each capped below).
COPY_LIMIT_BYTES = 64 * 1024
REASON_LIMIT_CHARS = 2000
HEADER_LIMIT_BYTES = 1024
MAX_HEADERS = 32


def _text(value: bytes | None) -> str | None:
    if value is None:
        return None
    try:
        return value.decode()
    except UnicodeDecodeError:
        return None


def _b64_or_text(value: bytes | None) -> str | None:
    if value is None:
        return None
    text = _text(value)
    return text if text is not None else base64.b64encode(value).decode()


def bounded(value: bytes | None, limit: int = HEADER_LIMIT_BYTES) -> str | None:
    return _b64_or_text(None if value is None else value[:limit])


def original_copy(value: bytes) -> dict[str, Any]:
    """The dead letter's one copy of `value`: as text if it is UTF-8, else base64; only its
    head when it is larger than COPY_LIMIT_BYTES (the size and SHA-256 name the whole)."""
    head = value[:COPY_LIMIT_BYTES]
    text = _text(head)
    if text is None and len(value) > COPY_LIMIT_BYTES:
        # The cut may fall inside a multi-byte character: keep the text up to it.
        text = head.decode(errors="ignore") if _text(value) is not None else None
    return {
        "original_text": text,
        "original_b64": None if text is not None else base64.b64encode(head).decode(),
        "original_size": len(value),
        "original_sha256": hashlib.sha256(value).hexdigest(),
        "original_truncated": len(value) > COPY_LIMIT_BYTES,
    }
