"""Taking a social webhook's mapped outcomes: each message on the inbound topic (once per
platform id), each profile update on the customers topic, everything counted.

Outcomes are taken in the platform's order, one after the other: messages of one conversation
keep their order on its partition. The answer is sent only after the last publish, so a broker
failure fails the request and the platform re-sends it (the sink drops the repeats).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from s8_channels.adapters.recipients import Recipient
from s8_channels.context import Channels
from s8_channels.domain.platform_mapping import ProfileUpdate, Skipped
from s8_shared.contracts.inbound import SocialMessage

log = logging.getLogger("s8.channels.webhooks")


class WebhookReceipt(BaseModel):
    """What became of the request's items (platforms only read the status code)."""

    model_config = ConfigDict(frozen=True)

    published: int = Field(default=0, description="Messages put on support.inbound.v1.")
    duplicates: int = Field(default=0, description="Messages published before (a re-send).")
    profile_updates: int = Field(default=0, description="Upserts put on support.customers.v1.")
    ignored: int = Field(default=0, description="Receipts, echoes, clicks... not messages.")
    invalid: int = Field(default=0, description="Items that could not be mapped (logged).")


async def take(
    channels: Channels, outcomes: Iterable[SocialMessage | ProfileUpdate | Skipped]
) -> WebhookReceipt:
    counts = {"published": 0, "duplicates": 0, "profile_updates": 0, "ignored": 0, "invalid": 0}
    received = channels.metrics.received
    for outcome in outcomes:
        if isinstance(outcome, SocialMessage):
            # Remembered first, and again on a re-send: the reply's route is known by the time
            # anyone can answer, and a failure after the publish is repaired by the retry.
            await channels.recipients.remember(
                "social", outcome.sender_id, Recipient(outcome.platform, outcome.page_id)
            )
            fresh = await channels.sink.put(outcome)
            received.labels(outcome.platform, "published" if fresh else "duplicate").inc()
            counts["published" if fresh else "duplicates"] += 1
        elif isinstance(outcome, ProfileUpdate):
            await channels.customers.put(outcome.upsert)
            received.labels(outcome.platform, "published").inc()
            counts["profile_updates"] += 1
        else:
            if outcome.outcome == "invalid":
                log.warning("%s webhook item skipped: %s", outcome.platform, outcome.reason)
            received.labels(outcome.platform, outcome.outcome).inc()
            counts[outcome.outcome] += 1
    return WebhookReceipt(**counts)
