"""FAQ articles in Mongo, seeded from the shipped data file the first time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from s8_intake.domain.model import KbArticle
from s8_shared.contracts import Language
from s8_shared.mongo import Document, MongoStore

COLLECTION = "kb_articles"


def _to_doc(article: KbArticle, now: datetime) -> Document:
    return {
        "_id": article.article_id,
        "language": article.language.value,
        "title": article.title,
        "body": article.body,
        "keywords": list(article.keywords),
        "questions": list(article.questions),
        "updated_at": now,
    }


def _from_doc(doc: Document) -> KbArticle:
    return KbArticle(
        article_id=doc["_id"],
        language=Language(doc["language"]),
        title=doc["title"],
        body=doc["body"],
        keywords=tuple(doc.get("keywords", ())),
        questions=tuple(doc.get("questions", ())),
    )


class KbStore:
    INDEXES = ()

    def __init__(self, store: MongoStore) -> None:
        self.col = store.collection(COLLECTION)

    async def seed(self, articles: Sequence[KbArticle], now: datetime) -> None:
        for article in articles:
            # $setOnInsert: an article edited through the API is never overwritten.
            doc = _to_doc(article, now)
            await self.col.update_one({"_id": doc.pop("_id")}, {"$setOnInsert": doc}, upsert=True)

    async def all(self) -> list[KbArticle]:
        return [_from_doc(d) async for d in self.col.find({}).sort("_id", 1)]

    async def put(self, article: KbArticle, now: datetime, by: str) -> None:
        doc = {**_to_doc(article, now), "updated_by": by}
        await self.col.replace_one({"_id": doc["_id"]}, doc, upsert=True)
