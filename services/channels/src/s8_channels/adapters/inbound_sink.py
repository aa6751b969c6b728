"""Putting a platform's message on `support.inbound.v1`, once per platform message id.

A webhook answers only after the broker has the message (the platform then may stop
retrying). The message id is marked seen after the publish, never before: a crash between
the two publishes it again on the platform's retry, and intake stores it once by the same
`channel_message_id`; marking first could lose it.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from s8_channels.ports import RawPublisher
from s8_shared import topics
from s8_shared.contracts import ChannelMessage, utcnow
from s8_shared.kafka.publisher import JSON_HEADERS
from s8_shared.mongo import IndexSpec, MongoStore

SEEN = "seen_messages"
SEEN_DAYS = 14  # as long as the inbound topic keeps a message


class InboundSink:
    """Publishes channel messages on the inbound topic, each platform message once."""

    INDEXES = (IndexSpec(SEEN, [("at", ASCENDING)]),)

    def __init__(self, publisher: RawPublisher, store: MongoStore) -> None:
        self.publisher = publisher
        self.seen = store.collection(SEEN)

    async def put(self, message: ChannelMessage, now: datetime | None = None) -> bool:
        """False when this platform message was published before (a platform retry)."""
        key = message.dedup_key()
        if await self.seen.find_one({"_id": key}, projection={"_id": 1}) is not None:
            return False
        value = message.model_dump_json(by_alias=True, exclude_none=True).encode()
        await self.publisher.publish_raw(
            topics.INBOUND, value, key=message.partition_key(), headers=dict(JSON_HEADERS)
        )
        with contextlib.suppress(DuplicateKeyError):  # a concurrent retry: stored once anyway
            await self.seen.insert_one({"_id": key, "at": now or utcnow()})
        return True

    async def forget_old(self) -> None:
        """Ids older than the topic's retention: a platform never retries that late."""
        await self.seen.delete_many({"at": {"$lt": utcnow() - timedelta(days=SEEN_DAYS)}})
