"""An in-memory `DeliveryStore` for unit tests: the same answers as `MongoDeliveryStore`
(recorded once by outbound id, claims with a lease in due order, outcomes only by the
current claim, events kept in each delivery's outbox until removed) without a database."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from s8_channels.adapters.delivery_store import Claimed, NewDelivery
from s8_channels.domain.delivery import DELIVERED, FAILED, PENDING
from s8_shared.mongo import Document
from s8_shared.outbox import OutboxItem


class InMemoryDeliveryStore:
    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}

    async def record(self, delivery: NewDelivery) -> bool:
        if delivery.outbound_id in self.docs:
            return False
        self.docs[delivery.outbound_id] = delivery.document()
        return True

    async def claim_due(
        self, now: datetime, lease: timedelta, claim: str, owner: str
    ) -> Claimed | None:
        due = [
            d
            for d in self.docs.values()
            if d["state"] == PENDING and d["next_attempt_at"] is not None
            if d["next_attempt_at"] <= now
        ]
        if not due:
            return None
        doc = min(due, key=lambda d: d["next_attempt_at"])
        doc.update(next_attempt_at=now + lease, claim=claim, claimed_by=owner)
        doc["attempts"] += 1
        return Claimed(doc["_id"], doc["request"], doc["attempts"], claim)

    async def reschedule(
        self, outbound_id: str, claim: str, at: datetime, error: str, provider: str
    ) -> bool:
        doc = self._claimed(outbound_id, claim)
        if doc is None:
            return False
        doc.update(next_attempt_at=at, last_error=error, provider=provider)
        return True

    async def finish(
        self,
        outbound_id: str,
        claim: str,
        state: str,
        fields: dict[str, Any],
        events: Sequence[OutboxItem],
    ) -> bool:
        if state not in (DELIVERED, FAILED):
            raise ValueError(f"not a final state: {state}")
        doc = self._claimed(outbound_id, claim)
        if doc is None:
            return False
        doc.update(copy.deepcopy(fields), state=state, next_attempt_at=None)
        if events:
            doc["outbox"].extend(asdict(e) for e in events)
            doc["has_outbox"] = True
        return True

    async def outbox_items(self, outbound_id: str) -> list[OutboxItem]:
        return [OutboxItem(**i) for i in self.docs.get(outbound_id, {}).get("outbox", [])]

    async def remove_from_outbox(self, outbound_id: str, event_ids: Sequence[str]) -> None:
        doc = self.docs.get(outbound_id)
        if doc is None:
            return
        doc["outbox"] = [i for i in doc["outbox"] if i["event_id"] not in event_ids]
        doc["has_outbox"] = bool(doc["outbox"])

    async def with_outbox(self, limit: int = 100) -> list[str]:
        return [k for k, d in self.docs.items() if d.get("has_outbox")][:limit]

    async def purge_finished(self, before: datetime) -> int:
        old = [
            k
            for k, d in self.docs.items()
            if d.get("finished_at") is not None and d["finished_at"] < before
            if not d.get("has_outbox")
        ]
        for k in old:
            del self.docs[k]
        return len(old)

    def _claimed(self, outbound_id: str, claim: str) -> Document | None:
        doc = self.docs.get(outbound_id)
        if doc is None or doc["state"] != PENDING or doc.get("claim") != claim:
            return None
        return doc
