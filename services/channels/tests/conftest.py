"""The channels app as the platforms see it, over in-memory fakes of its ports: no broker, no
store, and the app's lifespan never entered (it would connect to Kafka)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from s8_channels.settings import ChannelsSettings
from s8_testing.channels_fakes import ChannelsApp, channels_app

Harness = ChannelsApp  # what the tests of the social webhooks call it


@pytest.fixture
def settings() -> ChannelsSettings:
    """No platform configured; a test module overrides it with its accounts."""
    return ChannelsSettings()


@pytest.fixture
async def harness(settings: ChannelsSettings) -> AsyncIterator[ChannelsApp]:
    async with channels_app(settings) as app:
        yield app
