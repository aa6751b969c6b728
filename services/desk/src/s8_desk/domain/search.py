"""Search terms: Vietnamese with or without accents finds the same tickets ("hoá đơn",
"hoa don" and "HOA DON" are one query), by words of the subject and the conversation."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_TERMS = 400  # per ticket: enough for a long conversation's distinct words
MAX_QUERY_TERMS = 8
_WORD = re.compile(r"[0-9a-z]+")


def fold(text: str) -> str:
    """Lower case without diacritics (đ is a letter of its own, not a d with a mark)."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def terms(texts: Iterable[str | None], known: Iterable[str] = ()) -> list[str]:
    """The distinct words of `texts` added to those `known`, at most MAX_TERMS (the first
    ones kept: a ticket is found by how it began)."""
    found = dict.fromkeys(known)
    for text in texts:
        for word in words(text or ""):
            if len(found) >= MAX_TERMS:
                return list(found)
            found.setdefault(word)
    return list(found)


def query_terms(q: str) -> list[str]:
    return list(dict.fromkeys(words(q)))[:MAX_QUERY_TERMS]


def digits(text: str) -> str:
    """A phone number as its digits, with Vietnam's +84 written as the national 0."""
    only = re.sub(r"\D", "", text)
    return "0" + only[2:] if only.startswith("84") and len(only) >= 11 else only
