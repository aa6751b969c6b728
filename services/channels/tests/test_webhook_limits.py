"""Every platform route refuses a body over S8_MAX_BODY_BYTES with 413 before reading it:
nothing is verified, mapped or published, whatever it claims to be."""

from __future__ import annotations

import pytest

from s8_channels.settings import ChannelsSettings
from s8_testing.channels_fakes import channels_app

LIMIT = 65_536
ROUTES = [
    "/v1/channels/meta/webhook",
    "/v1/channels/zalo/webhook",
    "/v1/channels/twilio/sms",
    "/v1/channels/twilio/voice",
    "/v1/channels/stringee/events?token=t",
]


@pytest.mark.parametrize("path", ROUTES)
async def test_a_body_over_the_limit_is_refused_with_413_and_nothing_is_published(
    path: str,
) -> None:
    async with channels_app(ChannelsSettings(max_body_bytes=LIMIT)) as app:
        body = b'{"object": "page", "pad": "' + b"x" * (LIMIT + 1) + b'"}'
        response = await app.http.post(path, content=body, headers={"X-Hub-Signature-256": "x"})
        assert response.status_code == 413
        assert app.sink.published == []
        assert app.customers.upserts == []
