"""Lexicon-based sentiment for Vietnamese and English, explainable term by term.

No maintained library scores Vietnamese offline, so both languages use a data lexicon
(`data/sentiment_lexicon.yaml`), matched on folded words (accents optional unless the
lexicon says a word needs them). Longest terms win ("không hài lòng" before "hài lòng");
a negator shortly before a term flips it ("không tốt", "not good", "never works"); an
intensifier next to it scales it ("rất tệ", "chậm quá", "very slow"); "!" and CAPS raise
the magnitude; after "nhưng" / "but" counts more than before.

The lexicon is a model: the edges load it with `s8_shared.data_files.load_model(path,
Lexicon)` (DEFAULT_LEXICON_PATH is the shipped one); this module reads no file.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from s8_shared.contracts import Language
from s8_shared.nlp.text import Word, matches_at, words, words_by_part


@dataclass(frozen=True)
class Sentiment:
    score: float  # -1.0 (very negative) .. 1.0 (very positive)
    negative: bool
    matched: tuple[str, ...] = ()


DEFAULT_LEXICON_PATH = Path(__file__).parent / "data" / "sentiment_lexicon.yaml"
# Sentiment reads a message's first 2,000 words (about 12,000 characters): the mood shows
# long before, the score saturates after a few dozen terms, and each word costs CPU.
MAX_WORDS = 2_000
_CLAUSES = re.compile(r"[.!?;,:\n]+|\s[-–—]\s")


@dataclass(frozen=True)
class _Entry:
    text: str
    words: tuple[Word, ...]
    strict: tuple[bool, ...]
    value: float


class Negation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    window: int = Field(default=3, ge=1, le=6)
    positive_factor: float = Field(default=-0.75, le=0)
    negative_factor: float = Field(default=-0.4, le=0)


class Lexicon(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = Field(ge=1)
    negative_threshold: float = Field(default=-0.35, ge=-1, le=0)
    normalization: float = Field(default=6.0, gt=0)
    negation: Negation = Negation()
    exclamation_boost: float = Field(default=0.1, ge=0, le=0.5)
    caps_boost: float = Field(default=1.25, ge=1, le=2)
    contrast_before: float = Field(default=0.5, ge=0, le=1)
    contrast_after: float = Field(default=1.5, ge=1, le=3)
    negators: tuple[str, ...] = ()
    intensifiers: dict[str, float] = {}
    after_intensifiers: tuple[str, ...] = Field(
        default=(), description="Intensifiers that may also follow the term: tệ quá, tốt lắm."
    )
    contrast: tuple[str, ...] = ()
    accents_required: tuple[str, ...] = ()
    terms: dict[Language, dict[str, float]]

    _terms: dict[str, list[_Entry]] = PrivateAttr(default_factory=dict)
    _negators: list[_Entry] = PrivateAttr(default_factory=list)
    _intensifiers: list[_Entry] = PrivateAttr(default_factory=list)
    _contrast: list[_Entry] = PrivateAttr(default_factory=list)
    _after: set[str] = PrivateAttr(default_factory=set)

    @model_validator(mode="after")
    def _check(self) -> Lexicon:
        seen: dict[tuple[str, ...], str] = {}
        for language, terms in self.terms.items():
            for term, value in terms.items():
                if not -3 <= value <= 3:
                    raise ValueError(f"term {term!r} ({language.value}): {value} is not in -3..3")
                key = tuple(w.folded + "".join(sorted(w.marks)) for w in words(term))
                if not key:
                    raise ValueError(f"term {term!r} ({language.value}) has no words")
                if key in seen:
                    raise ValueError(f"term {term!r} ({language.value}) repeats {seen[key]!r}")
                seen[key] = term
        unknown = set(self.after_intensifiers) - set(self.intensifiers)
        if unknown:
            raise ValueError(f"after_intensifiers not among intensifiers: {sorted(unknown)}")
        return self

    def model_post_init(self, context: object, /) -> None:
        required = {(w.folded, w.marks) for t in self.accents_required for w in words(t)}

        def entry(text: str, value: float = 0.0) -> _Entry:
            ws = tuple(words(text))
            return _Entry(text, ws, tuple((w.folded, w.marks) in required for w in ws), value)

        for terms in self.terms.values():
            for term, value in terms.items():
                found = entry(term, value)
                self._terms.setdefault(found.words[0].folded, []).append(found)
        for candidates in self._terms.values():
            candidates.sort(key=lambda e: -len(e.words))
        self._negators = [entry(n) for n in self.negators]
        self._intensifiers = [entry(t, v) for t, v in self.intensifiers.items()]
        self._after = {i.text for i in self._intensifiers if i.text in self.after_intensifiers}
        self._contrast = [entry(c) for c in self.contrast]


def _clauses(text: str) -> tuple[list[Word], list[int]]:
    return words_by_part(text, _CLAUSES, limit=MAX_WORDS)


def _spans(ws: list[Word], entries: list[_Entry]) -> list[tuple[int, int, _Entry]]:
    by_first: dict[str, list[_Entry]] = {}
    for e in entries:
        by_first.setdefault(e.words[0].folded, []).append(e)
    return [
        (i, i + len(e.words), e)
        for i, word in enumerate(ws)
        for e in by_first.get(word.folded, ())
        if matches_at(ws, i, e.words, e.strict)
    ]


def score(text: str, lexicon: Lexicon) -> Sentiment:
    ws, clause_of = _clauses(text)
    hits: list[tuple[int, int, _Entry]] = []
    terms = lexicon._terms  # once: a pydantic private attribute is a slow lookup
    i = 0
    while i < len(ws):
        entry = next(
            (e for e in terms.get(ws[i].folded, ()) if matches_at(ws, i, e.words, e.strict)),
            None,
        )
        if entry is None:
            i += 1
            continue
        hits.append((i, i + len(entry.words), entry))
        i += len(entry.words)

    covered = {k for start, end, _ in hits for k in range(start, end)}
    negators = [s for s in _spans(ws, lexicon._negators) if s[0] not in covered]
    intensifiers = [s for s in _spans(ws, lexicon._intensifiers) if s[0] not in covered]
    contrasts = [s[0] for s in _spans(ws, lexicon._contrast) if s[0] not in covered]
    pivot = max(contrasts, default=None)

    # Indexed by position, so that each hit looks only at its neighbours (linear in the text;
    # scanning every negator for every hit was quadratic: "tệ k " × 4,000 took ~1 s).
    negators_at: dict[int, list[tuple[int, int, _Entry]]] = {}
    for span in negators:
        negators_at.setdefault(span[0], []).append(span)
    ending_at: dict[int, list[tuple[int, int, _Entry]]] = {}
    starting_at: dict[int, list[tuple[int, int, _Entry]]] = {}
    for span in intensifiers:
        ending_at.setdefault(span[1], []).append(span)
        starting_at.setdefault(span[0], []).append(span)

    total = 0.0
    matched: list[str] = []
    for start, end, entry in hits:
        value = entry.value
        clause = clause_of[start]
        if (
            all(w.raw.isupper() for w in ws[start:end])
            and sum(len(w.raw) for w in ws[start:end]) > 1
        ):
            value *= lexicon.caps_boost
        negator = next(
            (
                n
                for at in range(max(0, start - lexicon.negation.window), start + 1)
                for s, e, n in negators_at.get(at, ())
                if clause_of[s] == clause and e <= start
            ),
            None,
        )
        if negator is not None:  # "không tốt lắm", "not very good": mild, not amplified
            value *= (
                lexicon.negation.positive_factor if value > 0 else lexicon.negation.negative_factor
            )
        else:
            # Before the term (ending where it starts), else after it if allowed: the same
            # order as the spans, whose starts before the term come first.
            before = sorted(ending_at.get(start, ()), key=lambda span: span[0])
            after = [sp for sp in starting_at.get(end, ()) if sp[2].text in lexicon._after]
            for s, _, intensifier in [*before, *after]:
                if clause_of[s] == clause:
                    value *= intensifier.value
                    break
        if pivot is not None:
            value *= lexicon.contrast_before if start < pivot else lexicon.contrast_after
        total += value
        matched.append(f"{negator.text} {entry.text}" if negator else entry.text)

    if total:
        total *= 1 + lexicon.exclamation_boost * min(text.count("!"), 3)
    result = max(-1.0, min(1.0, total / math.sqrt(total * total + lexicon.normalization)))
    result = round(result, 3)
    return Sentiment(
        score=result, negative=result <= lexicon.negative_threshold, matched=tuple(matched)
    )
