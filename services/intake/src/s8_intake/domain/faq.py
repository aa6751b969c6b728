"""Match a customer's first message against FAQ articles, accents optional.

The score (0..1) blends fuzzy similarity with the article's sample questions (rapidfuzz on
folded, stop-word-free text) and whether one of its keywords occurs. Long messages and
messages touching several topics are scaled down: a rambling complaint or a multi-issue
email must go to a person, not get a canned answer. Deterministic: ties go to the
article listed first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, model_validator
from rapidfuzz import fuzz

from s8_intake.domain.model import KbArticle, KbMatch
from s8_shared.contracts import Language
from s8_shared.nlp.text import Word, WordIndex, tokens, words

QUESTION_WEIGHT = 0.75
KEYWORD_WEIGHT = 0.25
SHORT_ENOUGH = 14  # content words; longer messages are scaled by sqrt(SHORT_ENOUGH / n)
EXTRA_TOPIC_PENALTY = 0.7  # per further article whose keywords also occur

# Folded words that carry no topic: greetings, pronouns, politeness, question glue.
STOP_WORDS = frozenset(
    """a ad admin ah alo anh ban cho chi co cua da dang de di duoc em giup gi hoi
    la lam minh nha nhe nao oi roi sao shop thi toi va vay ve voi xin chao cam on ak vui long
    the a an i me my you your we our is are am be to of in on for it this that please hi
    hello thanks thank do does can could would will how what when where which there""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class _Prepared:
    questions: tuple[str, ...]
    keywords: tuple[tuple[Word, ...], ...]


def _content(text: str) -> str:
    return " ".join(t for t in tokens(text) if t not in STOP_WORDS)


@lru_cache(maxsize=1024)
def _prepare(article: KbArticle) -> _Prepared:
    samples = (article.title, *article.questions)
    return _Prepared(
        questions=tuple(q for q in (_content(s) for s in samples) if q),
        keywords=tuple(tuple(words(k)) for k in article.keywords if words(k)),
    )


def _has_keyword(message: WordIndex, prepared: _Prepared) -> bool:
    return any(message.find(k) >= 0 for k in prepared.keywords)


def _similarity(query: str, prepared: _Prepared) -> float:
    return max(
        (
            (fuzz.token_set_ratio(query, q) + fuzz.token_sort_ratio(query, q)) / 200
            for q in prepared.questions
        ),
        default=0.0,
    )


def match(
    text: str, articles: Sequence[KbArticle], language: Language, *, threshold: float = 0.6
) -> KbMatch | None:
    """The best article for this message if it scores at least `threshold`, else None.
    Articles in `language` are preferred; any language is used if none exists in it."""
    candidates = [a for a in articles if a.language == language] or list(articles)
    query = _content(text)
    if not query or not candidates:
        return None
    size = len(query.split())
    damping = math.sqrt(SHORT_ENOUGH / size) if size > SHORT_ENOUGH else 1.0
    if round(damping, 4) < threshold:  # every score is at most `damping`: long messages never match
        return None
    message = WordIndex(words(text))
    prepared = [_prepare(a) for a in candidates]
    topics = sum(1 for p in prepared if _has_keyword(message, p))
    damping *= EXTRA_TOPIC_PENALTY ** max(0, topics - 1)

    best: KbMatch | None = None
    for article, p in zip(candidates, prepared, strict=True):
        keyword = 1.0 if _has_keyword(message, p) else 0.0
        value = (QUESTION_WEIGHT * _similarity(query, p) + KEYWORD_WEIGHT * keyword) * damping
        value = round(min(1.0, value), 4)
        if best is None or value > best.score:
            best = KbMatch(article.article_id, value)
    return best if best is not None and best.score >= threshold else None


class _ArticleDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1)
    language: Language
    title: str = Field(min_length=1)
    body: str = Field(min_length=1)
    keywords: tuple[str, ...] = ()
    questions: tuple[str, ...] = Field(min_length=1)


class ArticlesDoc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = Field(ge=1)
    articles: tuple[_ArticleDoc, ...]

    @model_validator(mode="after")
    def _unique(self) -> ArticlesDoc:
        ids = [a.id for a in self.articles]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate article ids: {duplicates}")
        return self


def articles_of(doc: ArticlesDoc) -> list[KbArticle]:
    """The articles of a validated articles file."""
    return [
        KbArticle(
            article_id=a.id,
            language=a.language,
            title=a.title.strip(),
            body=a.body.strip(),
            keywords=a.keywords,
            questions=a.questions,
        )
        for a in doc.articles
    ]
