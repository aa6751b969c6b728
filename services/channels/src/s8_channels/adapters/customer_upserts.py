"""What a platform tells about a customer beyond messages (a Zalo follow or unfollow), as a
profile upsert on `support.customers.v1`: intake keeps it on the customer."""

from __future__ import annotations

from s8_channels.ports import RawPublisher
from s8_shared import topics
from s8_shared.contracts import CustomerProfileUpsert
from s8_shared.kafka.publisher import JSON_HEADERS


class CustomerUpserts:
    def __init__(self, publisher: RawPublisher) -> None:
        self.publisher = publisher

    async def put(self, upsert: CustomerProfileUpsert) -> None:
        first = upsert.identities[0]
        await self.publisher.publish_raw(
            topics.CUSTOMERS,
            upsert.model_dump_json(exclude_none=True).encode(),
            key=f"{first.kind}:{first.value}".encode(),
            headers=dict(JSON_HEADERS),
        )
