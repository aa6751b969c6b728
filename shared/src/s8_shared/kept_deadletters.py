"""Dead letters that could not be published, kept in the service's own store and republished
later, so that a broker refusing one dead letter never blocks the partition it came from."""

from __future__ import annotations

import base64
import logging

from s8_shared.contracts.deadletter import DeadLetterRecorded
from s8_shared.contracts.envelope import utcnow
from s8_shared.kafka.deadletter import DeadLetterSink
from s8_shared.mongo import MongoStore

log = logging.getLogger("s8.deadletter")


class KeptDeadLetters:
    COLLECTION = "kept_dead_letters"
    BATCH = 100

    def __init__(self, store: MongoStore) -> None:
        self.col = store.collection(self.COLLECTION)

    async def keep(self, event: DeadLetterRecorded, key: bytes | None) -> None:
        # Keyed by source topic/partition/offset: a redelivered message is kept once.
        await self.col.replace_one(
            {"_id": event.payload.dead_letter_id},
            {
                "event": event.to_bytes().decode(),
                "key": base64.b64encode(key).decode() if key is not None else None,
                "kept_at": utcnow(),
            },
            upsert=True,
        )

    async def republish(self, sink: DeadLetterSink) -> int:
        """Publishes what is kept, oldest first, removing each once published; stops at the
        first failure (the broker still refuses: the next round tries again)."""
        done = 0
        async for doc in self.col.find({}).sort("kept_at", 1).limit(self.BATCH):
            event = DeadLetterRecorded.model_validate_json(doc["event"])
            key = base64.b64decode(doc["key"]) if doc.get("key") is not None else None
            try:
                await sink.publish_deadletter(event, key)
            except Exception as exc:
                log.warning("kept dead letters still unpublished", extra={"error": repr(exc)})
                break
            await self.col.delete_one({"_id": doc["_id"]})
            done += 1
        return done
