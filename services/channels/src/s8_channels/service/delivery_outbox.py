"""Publishing what a delivery's outcome stored in its outbox (s8_shared.outbox): the
outcome event on the outbound topic, a failure's dead letter on the dead-letter topic.
Each is removed from the outbox once all are published; what a crash or a broker error
leaves there the sweep publishes (the same event ids: consumers apply them once)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from s8_channels.ports import DeliveryStore, EventSink
from s8_shared import topics
from s8_shared.contracts.deadletter import DeadLetterRecorded
from s8_shared.outbox import OutboxItem

log = logging.getLogger("s8.channels.delivery")


class DeliveryOutbox:
    def __init__(self, store: DeliveryStore, publisher: EventSink) -> None:
        self.store = store
        self.publisher = publisher

    async def publish(self, outbound_id: str, items: Sequence[OutboxItem]) -> bool:
        """Publishes a delivery's stored events, then removes them from its outbox; on a
        broker error they stay there for the sweep. True when all were published."""
        try:
            for item in items:
                await self._publish_item(item)
        except Exception:
            log.warning("publishing failed; the delivery's outbox keeps it", exc_info=True)
            return False
        if items:
            await self.store.remove_from_outbox(outbound_id, [i.event_id for i in items])
        return True

    async def sweep(self) -> int:
        """Publishes what a crash or a broker error left in deliveries' outboxes."""
        swept = 0
        for outbound_id in await self.store.with_outbox():
            items = await self.store.outbox_items(outbound_id)
            if not await self.publish(outbound_id, items):
                return swept  # the broker still refuses: next round
            swept += len(items)
        return swept

    async def _publish_item(self, item: OutboxItem) -> None:
        if item.topic == topics.DEADLETTER.base_name:
            dead_letter = DeadLetterRecorded.model_validate_json(item.body)
            await self.publisher.publish_deadletter(dead_letter, item.key.encode())
            return
        event = item.event()
        if event is None:  # written by a newer version: nothing this one can publish
            log.error("unreadable outbox event dropped", extra={"event_id": item.event_id})
            return
        await self.publisher.publish(item.spec, event)
