"""Canned replies' placeholders: a fixed set of names in `{{ }}`, filled in by substitution.
Not a template language on purpose: the texts are written by leads, and a reply box needs
names filled in, not logic (nothing to evaluate, and the cost is one pass over the text)."""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDERS = ("customer_name", "ticket_id", "agent_name", "subject")
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class UnknownPlaceholder(ValueError):
    pass


def check(text: str) -> None:
    """Refuses a text naming a placeholder that would never be filled in."""
    unknown = sorted({m.group(1) for m in _PLACEHOLDER.finditer(text)} - set(PLACEHOLDERS))
    if unknown:
        known = ", ".join("{{" + p + "}}" for p in PLACEHOLDERS)
        raise UnknownPlaceholder(f"unknown placeholder {', '.join(unknown)}; known: {known}")


def render(text: str, values: Mapping[str, str | None]) -> str:
    """The text with each placeholder replaced (an unknown value leaves it empty)."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1)) or "", text)
