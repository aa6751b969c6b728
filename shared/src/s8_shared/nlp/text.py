"""Text helpers for Vietnamese and English messages: accent folding, words that remember
their accents, accent-tolerant phrase search and language detection. Pure functions.

Customers write Vietnamese with or without diacritics ("khẩn cấp" / "khan cap"), so
matching is done on folded words. A word the customer *did* accent must carry the
keyword's accents, though (subset of marks, in any placement): "gặp" (meet) is not
"gấp" (urgent), while an unaccented "gap" matches both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from s8_shared.contracts import Language

_D_STROKE = str.maketrans({"đ": "d", "Đ": "d"})
_WORD = re.compile(r"[^\W_]+")
_SPACES = re.compile(r"\s+")
# Marks only Vietnamese uses among our two languages: hook above, dot below, horn, breve.
_VI_ONLY_MARKS = frozenset({"\u0309", "\u0323", "\u031b", "\u0306"})
_D_MARK = "đ"  # pseudo-mark: "đ" folds to "d" but must not lose its identity

# Frequent Vietnamese words, folded: enough of them marks unaccented Vietnamese.
_VI_WORDS = frozenset(
    """khong duoc toi minh cua cho gap ban hang la va co nhung chua roi da dang se em anh chi
    oi nhe vay sao lam nao gi nay voi tu den trong don tien giao hoan loi nhan bi mat khau
    tai khoan kiem tra giup xin cam on shop ad ho tro dich vu nhan vien sau bao nhieu luc
    ngay hom qua thang nua ma thi rat lam ah nha ko k dc j hay biet muon""".split()  # noqa: SIM905
)
# Frequent English words that are not also common unaccented Vietnamese words.
_EN_WORDS = frozenset(
    """i you my your the is are was were to for of and not please order refund can could
    help with have has it this that we our be does did get got want need how what when why
    where account password hi hello thanks thank still no yes would will just been from
    there they at by or if so but as any all about after before again delivery payment""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Word:
    """One word of a text: as written, folded, and the diacritics it carried."""

    raw: str
    folded: str
    marks: frozenset[str]


def _strip(text: str) -> tuple[str, frozenset[str]]:
    decomposed = unicodedata.normalize("NFD", text.lower())
    marks = {ch for ch in decomposed if unicodedata.combining(ch)}
    if _D_MARK in decomposed:
        marks.add(_D_MARK)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return bare.translate(_D_STROKE), frozenset(marks)


def fold(text: str) -> str:
    """Lower-case, drop diacritics (đ → d) and collapse whitespace."""
    return _SPACES.sub(" ", _strip(text)[0]).strip()


@lru_cache(maxsize=16_384)
def _word(raw: str) -> Word:
    bare, marks = _strip(raw)
    return Word(raw, bare, marks)


@lru_cache(maxsize=32)
def _words(text: str) -> tuple[Word, ...]:
    return tuple(_word(raw) for raw in _WORD.findall(unicodedata.normalize("NFC", text)))


def words(text: str) -> list[Word]:
    """The words of a text. Cached: one message's text is read by sentiment, classification,
    language detection and FAQ matching, and most words of a language repeat."""
    return list(_words(text))


def words_by_part(
    text: str, separators: re.Pattern[str], limit: int | None = None
) -> tuple[list[Word], list[int]]:
    """The (first `limit`) words of a text and, for each, the number of `separators`
    matches before it (the clause it is in), in one pass; separators never contain word
    characters."""
    text = unicodedata.normalize("NFC", text)
    bounds = [m.end() for m in separators.finditer(text)]
    found: list[Word] = []
    part_of: list[int] = []
    part = 0
    for m in _WORD.finditer(text):
        if limit is not None and len(found) >= limit:
            break
        while part < len(bounds) and bounds[part] <= m.start():
            part += 1
        found.append(_word(m.group()))
        part_of.append(part)
    return found, part_of


class WordIndex:
    """Where each folded word occurs in a text: a phrase is looked for only where its first
    word is, so many phrases cost the occurrences of their first words, not the text."""

    def __init__(self, found: Sequence[Word]) -> None:
        self.words = found
        self.at: dict[str, list[int]] = {}
        for i, word in enumerate(found):
            self.at.setdefault(word.folded, []).append(i)

    def find(self, phrase: Sequence[Word], *, exact: bool = False) -> int:
        """Index of the first occurrence of `phrase` (whole words), or -1."""
        if not phrase:
            return -1
        for i in self.at.get(phrase[0].folded, ()):
            if matches_at(self.words, i, phrase, exact):
                return i
        return -1


def tokens(text: str) -> list[str]:
    """The folded words of a text, punctuation dropped."""
    return [w.folded for w in words(text)]


def same_word(written: Word, wanted: Word) -> bool:
    """Does the customer's word match a keyword's word? Accents are optional, but the
    accents the customer typed must all belong to the keyword's word."""
    if written.folded != wanted.folded:
        return False
    return not wanted.marks or written.marks <= wanted.marks


def exact_word(written: Word, wanted: Word) -> bool:
    """Strict match: the customer typed the same accents as the keyword."""
    return written.folded == wanted.folded and written.marks == wanted.marks


def matches_at(
    haystack: Sequence[Word],
    i: int,
    phrase: Sequence[Word],
    strict: Sequence[bool] | bool = False,
) -> bool:
    """Does `phrase` occur at word `i`? `strict` (for the whole phrase or per word) asks
    for the same accents as written in the phrase."""
    n = len(phrase)
    if not n or i < 0 or i + n > len(haystack):
        return False
    # Loops rather than all(...) over a generator: this runs for every candidate word.
    for k in range(n):
        exact = strict if isinstance(strict, bool) else strict[k]
        if not (exact_word if exact else same_word)(haystack[i + k], phrase[k]):
            return False
    return True


def find_phrase(
    haystack: Sequence[Word], phrase: Sequence[Word], *, exact: bool = False, start: int = 0
) -> int:
    """Index of the first occurrence of `phrase` (whole words) at or after `start`, or -1."""
    if not phrase:
        return -1
    first = phrase[0].folded
    for i in range(start, len(haystack) - len(phrase) + 1):
        if haystack[i].folded == first and matches_at(haystack, i, phrase, exact):
            return i
    return -1


def contains_phrase(haystack: Sequence[Word], phrase: str, *, exact: bool = False) -> bool:
    return find_phrase(haystack, words(phrase), exact=exact) >= 0


def detect_language(text: str) -> Language:
    """Vietnamese if the text carries Vietnamese diacritics, or enough common Vietnamese
    words written without accents; English otherwise."""
    found = words(text)
    if not found:
        return Language.EN
    accented = 0
    for word in found:
        if word.marks & _VI_ONLY_MARKS or _D_MARK in word.marks:
            return Language.VI
        if word.marks:
            accented += 1
    if accented >= 2 and accented * 4 >= len(found):
        return Language.VI
    vi_hits = sum(1 for w in found if w.folded in _VI_WORDS)
    en_hits = sum(1 for w in found if w.folded in _EN_WORDS)
    if vi_hits > en_hits and (vi_hits >= 2 or len(found) <= 3):
        return Language.VI
    return Language.EN
