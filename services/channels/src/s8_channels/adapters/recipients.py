"""Which account each customer wrote to, so a reply goes out from it.

A Messenger PSID only means something to its page, a Zalo user id to its app, and an SMS is
answered from the number the customer texted: the webhook remembers the account a sender
used, the sender of the reply reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from s8_shared.contracts import utcnow
from s8_shared.mongo import MongoStore

RECIPIENTS = "recipients"


@dataclass(frozen=True)
class Recipient:
    platform: str  # facebook, instagram, zalo, twilio
    account: str  # page id, OA id, the Twilio number the customer wrote to


class Recipients:
    def __init__(self, store: MongoStore) -> None:
        self.col = store.collection(RECIPIENTS)

    @staticmethod
    def key(channel: str, address: str) -> str:
        return f"{channel}:{address}"

    async def remember(
        self, channel: str, address: str, recipient: Recipient, now: datetime | None = None
    ) -> None:
        await self.col.update_one(
            {"_id": self.key(channel, address)},
            {
                "$set": {
                    "platform": recipient.platform,
                    "account": recipient.account,
                    "at": now or utcnow(),
                }
            },
            upsert=True,
        )

    async def find(self, channel: str, address: str) -> Recipient | None:
        doc = await self.col.find_one({"_id": self.key(channel, address)})
        return Recipient(doc["platform"], doc["account"]) if doc else None
