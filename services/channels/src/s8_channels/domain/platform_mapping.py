"""What the social webhooks share when mapping a native payload (pure, no I/O): what becomes
of each item that is not a message, and how ids, times and attachments are read.

Platforms send big numeric ids sometimes as JSON numbers, sometimes as strings: s8 keeps them
as strings, never as floats or ints that a consumer might round.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from s8_shared.contracts import CustomerProfileUpsert

MAX_ID_CHARS = 512  # the contracts' ShortText
MAX_URL_CHARS = 2048  # Attachment.url
MAX_ATTACHMENTS = 100  # SocialMessage.attachments; the rest stay in `raw`
_MAX_MILLIS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


@dataclass(frozen=True)
class Skipped:
    """An item acknowledged to the platform but not published, and why (counted, logged)."""

    platform: str
    outcome: Literal["ignored", "invalid"]
    reason: str


@dataclass(frozen=True)
class ProfileUpdate:
    """What a platform told about a customer (a Zalo follow), for `support.customers.v1`."""

    platform: str
    upsert: CustomerProfileUpsert


class Unmappable(ValueError):
    """A field the mapping needs is missing or malformed: the item is invalid."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def constant_time_equal(expected: str, supplied: str) -> bool:
    """Compares as UTF-8 bytes: `hmac.compare_digest` refuses a str that is not ASCII."""
    return hmac.compare_digest(
        expected.encode("utf-8", errors="replace"), supplied.encode("utf-8", errors="replace")
    )


def hex_digest_matches(expected_hex: str, supplied: str) -> bool:
    """A hex digest as sent (any case, surrounding spaces) against the one computed; a header
    is latin-1 text, so any byte in it compares (and fails) without an error."""
    return hmac.compare_digest(
        expected_hex.encode("ascii"), supplied.strip().encode("latin-1", errors="replace").lower()
    )


def sha256_hex(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part)
    return digest.hexdigest()


def platform_id(value: object, what: str) -> str:
    if isinstance(value, bool):  # a bool is an int to Python, never an id
        raise Unmappable(f"{what} is not an id")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip() and len(value) <= MAX_ID_CHARS:
        return value
    raise Unmappable(f"{what} missing or not an id")


def id_of(party: object, what: str) -> str:
    """`{"id": ...}` → the id: how both Meta and Zalo name a sender or recipient."""
    if not isinstance(party, dict):
        raise Unmappable(f"{what} missing")
    return platform_id(party.get("id"), f"{what}.id")


def text_of(value: object, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Unmappable(f"{what} is not text")
    return value


def from_millis(value: object, what: str = "timestamp") -> datetime | None:
    """Milliseconds since the epoch (a number or a string of digits); None when absent."""
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 15:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_MILLIS:
        raise Unmappable(f"{what} is not a time in milliseconds")
    return datetime.fromtimestamp(value / 1000, UTC)


def attachment_url(value: object) -> str | None:
    """An http(s) URL the contract can hold; anything else stays only in `raw`."""
    if not isinstance(value, str) or len(value) > MAX_URL_CHARS:
        return None
    return value if urlsplit(value).scheme in ("http", "https") else None


def filename_from_url(url: str | None, fallback: str) -> str:
    """The URL path's last segment (CDN URLs end with the file's name), else `fallback`."""
    if url:
        segment = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        name = "".join(c for c in segment if c.isprintable() and c not in "/\\")
        if name.strip():
            return name[:MAX_ID_CHARS]
    return clip(fallback) or "attachment"


def clip(value: str, limit: int = MAX_ID_CHARS) -> str:
    return value.strip()[:limit]


def size_of(value: object) -> int:
    """A size in bytes as a number or a string of digits; 0 (unknown) otherwise."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return 0


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def attachment_items(value: object) -> list[tuple[str, dict[str, Any]]]:
    """The (type, payload) of each attachment a platform listed, the first MAX_ATTACHMENTS;
    Unmappable when the list or an item is not the platform's shape."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise Unmappable("message.attachments is not a list")
    found = []
    for attachment in value[:MAX_ATTACHMENTS]:
        if not isinstance(attachment, dict):
            raise Unmappable("an attachment is not an object")
        kind = attachment.get("type")
        found.append(
            (
                kind if isinstance(kind, str) and kind else "attachment",
                as_dict(attachment.get("payload")),
            )
        )
    return found
