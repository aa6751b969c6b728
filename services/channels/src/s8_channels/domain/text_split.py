"""Fitting a text into a platform's message limit. Pure.

A text longer than one platform message is split into several, at a paragraph, line or
word break when there is one in the last part of the window (else in the middle of a word),
so that the customer gets the whole answer; past `max_parts` the last part is cut and ends
with an ellipsis (a reply that long belongs in e-mail). On a retry after a partial send the
parts already delivered go again: a repeated part is better than a lost ending.
"""

from __future__ import annotations

ELLIPSIS = "…"
# A break earlier than this share of the window wastes too much of a message: cut instead.
_MIN_FILL = 0.5


def split_text(text: str, limit: int, max_parts: int) -> list[str]:
    """`text` as at most `max_parts` pieces of at most `limit` characters (one piece, maybe
    empty, when it fits)."""
    if limit < 2 or max_parts < 1:
        raise ValueError("limit must be at least 2 and max_parts at least 1")
    rest = text.strip()
    if len(rest) <= limit:
        return [rest]
    parts: list[str] = []
    while rest and len(parts) < max_parts - 1:
        if len(rest) <= limit:
            parts.append(rest)
            return parts
        cut = _break_at(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest if len(rest) <= limit else rest[: limit - 1].rstrip() + ELLIPSIS)
    return parts


def _break_at(text: str, limit: int) -> int:
    window = text[: limit + 1]  # a break right after the limit still fits the part
    for separator in ("\n\n", "\n", " "):
        at = window.rfind(separator)
        if at >= limit * _MIN_FILL:
            return at
    return limit
