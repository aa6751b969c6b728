"""Fakes of the channels service's ports for its unit tests: an in-memory `DeliveryStore`
(the same answers as `MongoDeliveryStore`: recorded once by outbound id, claims with a lease
in due order, outcomes only by the current claim, events kept in each delivery's outbox until
removed), and the app as the platforms see it over an in-memory sink, recipients and customer
upserts."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from s8_channels.adapters.customer_upserts import CustomerUpserts
from s8_channels.adapters.delivery_store import Claimed, NewDelivery
from s8_channels.adapters.inbound_sink import InboundSink
from s8_channels.adapters.recipients import Recipient, Recipients
from s8_channels.app import build
from s8_channels.context import Channels
from s8_channels.domain.delivery import DELIVERED, FAILED, PENDING
from s8_channels.settings import ChannelsSettings
from s8_shared.contracts import ChannelMessage, CustomerProfileUpsert
from s8_shared.mongo import Document
from s8_shared.outbox import OutboxItem
from s8_shared.runtime import ServiceRuntime


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


class FakeSink(InboundSink):
    """The inbound topic as a list, each platform message id once (as the real sink does)."""

    def __init__(self) -> None:  # no publisher, no store
        self.published: list[ChannelMessage] = []
        self.keys: set[str] = set()

    async def put(self, message: ChannelMessage, now: datetime | None = None) -> bool:
        key = message.dedup_key()
        if key in self.keys:
            return False
        self.keys.add(key)
        self.published.append(message)
        return True


class FakeRecipients(Recipients):
    def __init__(self) -> None:
        self.known: dict[str, Recipient] = {}

    async def remember(
        self, channel: str, address: str, recipient: Recipient, now: datetime | None = None
    ) -> None:
        self.known[self.key(channel, address)] = recipient

    async def find(self, channel: str, address: str) -> Recipient | None:
        return self.known.get(self.key(channel, address))


class FakeCustomers(CustomerUpserts):
    def __init__(self) -> None:
        self.upserts: list[CustomerProfileUpsert] = []

    async def put(self, upsert: CustomerProfileUpsert) -> None:
        self.upserts.append(upsert)


@dataclass
class ChannelsApp:
    """An HTTP client on the channels app as the platforms see it, and what reached its fakes."""

    http: httpx.AsyncClient
    app: FastAPI
    runtime: ServiceRuntime
    sink: FakeSink
    recipients: FakeRecipients
    customers: FakeCustomers

    def count(self, metric: str, **labels: str) -> float:
        return self.runtime.registry.get_sample_value(metric, labels) or 0.0

    def received(self, platform: str, outcome: str) -> float:
        return self.count("s8_channels_received_total", platform=platform, outcome=outcome)

    def refused(self, platform: str) -> float:
        return self.count("s8_channels_signature_failures_total", platform=platform)


@contextlib.asynccontextmanager
async def channels_app(settings: ChannelsSettings) -> AsyncIterator[ChannelsApp]:
    """The channels app over in-memory fakes of its ports: no broker, no store, and its
    lifespan never entered (it would connect to Kafka)."""
    runtime, app = build(settings)
    sink, recipients, customers = FakeSink(), FakeRecipients(), FakeCustomers()
    built: Channels = app.state.channels
    app.state.channels = dataclasses.replace(
        built, sink=sink, recipients=recipients, customers=customers
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://channels") as http:
        yield ChannelsApp(http, app, runtime, sink, recipients, customers)
