"""The channels app as the platforms see it, over in-memory fakes of its ports: no broker, no
store, and the app's lifespan never entered (it would connect to Kafka)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest
from fastapi import FastAPI

from s8_channels.adapters.customer_upserts import CustomerUpserts
from s8_channels.adapters.inbound_sink import InboundSink
from s8_channels.adapters.recipients import Recipient, Recipients
from s8_channels.app import build
from s8_channels.context import Channels
from s8_channels.settings import ChannelsSettings
from s8_shared.contracts import ChannelMessage, CustomerProfileUpsert
from s8_shared.runtime import ServiceRuntime


class FakeSink(InboundSink):
    """Publishes into a list, each platform message id once (as the real sink does)."""

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
class Harness:
    """An HTTP client on the channels app, and what reached its fakes."""

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


@pytest.fixture
def settings() -> ChannelsSettings:
    """No platform configured; a test module overrides it with its accounts."""
    return ChannelsSettings()


@pytest.fixture
async def harness(settings: ChannelsSettings) -> AsyncIterator[Harness]:
    runtime, app = build(settings)
    sink, recipients, customers = FakeSink(), FakeRecipients(), FakeCustomers()
    built: Channels = app.state.channels
    app.state.channels = dataclasses.replace(
        built, sink=sink, recipients=recipients, customers=customers
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://channels"
    ) as http:
        yield Harness(http, app, runtime, sink, recipients, customers)
