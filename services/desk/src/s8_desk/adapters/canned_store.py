"""Canned replies, kept by the desk in its own database (one document per reply)."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING

from s8_shared.contracts.desk import CannedReply, CannedReplyBody
from s8_shared.mongo import IndexSpec, MongoStore

CANNED = "canned_replies"
LIMIT = 500  # replies per language a desk lists


class CannedStore:
    INDEXES = (IndexSpec(CANNED, [("language", ASCENDING), ("title", ASCENDING)]),)

    def __init__(self, store: MongoStore) -> None:
        self.col = store.collection(CANNED)

    async def put(self, canned_id: str, body: CannedReplyBody, by: str, at: datetime) -> CannedReply:  # fmt: skip
        reply = CannedReply(canned_id=canned_id, **body.model_dump(), updated_by=by, updated_at=at)
        doc = {**reply.model_dump(mode="json"), "updated_at": at}
        await self.col.replace_one({"_id": canned_id}, doc, upsert=True)
        return reply

    async def get(self, canned_id: str) -> CannedReply | None:
        doc = await self.col.find_one({"_id": canned_id})
        return None if doc is None else CannedReply.model_validate(doc)

    async def delete(self, canned_id: str) -> bool:
        return (await self.col.delete_one({"_id": canned_id})).deleted_count == 1

    async def of_language(self, language: str) -> list[CannedReply]:
        found = self.col.find({"language": language}).sort("title", ASCENDING).limit(LIMIT)
        return [CannedReply.model_validate(d) async for d in found]
