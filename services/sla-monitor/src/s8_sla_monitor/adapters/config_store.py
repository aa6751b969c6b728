"""SLA policies and business calendars as documents: seeded from the shipped YAML, edited
through the API, reread by every replica."""

from __future__ import annotations

import json
from typing import Any

from s8_shared.contracts import utcnow
from s8_shared.mongo import MongoStore

CONFIG = "config"


class ConfigStore:
    INDEXES = ()

    def __init__(self, store: MongoStore) -> None:
        self.col = store.collection(CONFIG)

    async def seed(self, name: str, raw: Any) -> None:
        # JSON text: calendar keys such as "09:00" or dates are data, not field names.
        await self.col.update_one(
            {"_id": name},
            {"$setOnInsert": {"body": json.dumps(raw, default=str), "updated_at": utcnow()}},
            upsert=True,
        )

    async def get(self, name: str) -> Any:
        doc = await self.col.find_one({"_id": name})
        return json.loads(doc["body"]) if doc else None

    async def put(self, name: str, raw: Any) -> None:
        await self.col.update_one(
            {"_id": name},
            {"$set": {"body": json.dumps(raw, default=str), "updated_at": utcnow()}},
            upsert=True,
        )
