"""Outbound delivery wiring: the consumer of `support.outbound.v1`, the senders, the
delivery loop, the outbox sweep and the purge of old deliveries."""

from __future__ import annotations

from typing import Any

import httpx

from s8_channels.adapters.delivery_store import MongoDeliveryStore
from s8_channels.adapters.meta_sender import MetaSender
from s8_channels.adapters.smtp_sender import SmtpSender
from s8_channels.adapters.twilio_sender import TwilioSender
from s8_channels.adapters.zalo_sender import ZaloSender
from s8_channels.context import Channels
from s8_channels.domain.delivery import META, SMTP, TWILIO, ZALO
from s8_channels.ports import DeliveryStore, Sender
from s8_channels.service.delivery import DeliveryConfig, DeliveryService
from s8_channels.service.delivery_loop import DeliveryWorker
from s8_channels.service.senders import Senders
from s8_shared import topics
from s8_shared.contracts import Event, OutboundMessageRequested
from s8_shared.contracts.outbound import OUTBOUND_EVENTS, OutboundDelivered, OutboundFailed
from s8_shared.runtime import ServiceRuntime

DELIVERY_EVERY_SECONDS = 0.5
CONCURRENCY = 16  # sends in flight per replica
PURGE_EVERY_SECONDS = 3600.0
STOP_GRACE_SECONDS = 10.0


def register_delivery(
    runtime: ServiceRuntime, channels: Channels, store: DeliveryStore | None = None
) -> DeliveryService:
    """`store`: the deliveries' store (default: the runtime's, `MongoDeliveryStore`)."""
    settings = channels.settings
    if store is None:
        runtime.add_indexes(*MongoDeliveryStore.INDEXES)
        store = MongoDeliveryStore(runtime.store)
    # One client for the HTTP platforms: pooled connections; no redirects (a POST that is
    # redirected is not what the platform documents).
    client = httpx.AsyncClient(timeout=settings.delivery_timeout_seconds, follow_redirects=False)
    by_provider: dict[str, Sender] = {
        SMTP: SmtpSender(settings),
        META: MetaSender(settings, client),
        ZALO: ZaloSender(settings, client),
        TWILIO: TwilioSender(settings, client),
    }
    service = DeliveryService(
        store,
        Senders(by_provider, channels.recipients),
        runtime.publisher,
        channels.metrics,
        DeliveryConfig.of(settings, runtime.topic(topics.OUTBOUND)),
    )
    worker = DeliveryWorker(service, CONCURRENCY)
    # The outcomes this service publishes on the same topic are skipped unread.
    requests = runtime.applier(
        OUTBOUND_EVENTS, topics.OUTBOUND, handles=(OutboundMessageRequested,)
    )

    @runtime.event_subscriber(topics.OUTBOUND, requests)
    async def on_outbound_requested(event: Event[Any]) -> None:
        """Records each e-mail, social and SMS message to deliver, once per outbound id; the
        delivery loop sends it (a slow platform never holds up the partition)."""
        if isinstance(event, OutboundMessageRequested):
            await service.record(event)

    runtime.publisher.document(topics.OUTBOUND, OutboundDelivered | OutboundFailed)
    runtime.every(DELIVERY_EVERY_SECONDS, worker.tick, "deliver due messages")
    runtime.every(settings.outbox_sweep_seconds, service.sweep_outboxes, "delivery outbox sweep")
    runtime.every(PURGE_EVERY_SECONDS, service.purge, "forget old deliveries")

    async def stop() -> None:
        await worker.stop(STOP_GRACE_SECONDS)
        await client.aclose()

    runtime.on_stop(stop)
    return service
