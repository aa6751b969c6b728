"""Delivering outbound requests: record each once, then attempt it until it is delivered or
its failure is final.

Consuming a request only records it (`record`): a slow or failing platform never holds up
the partition it came from. The worker (`worker.py`) claims due deliveries and calls
`attempt`, which sends through the request's sender and stores the outcome: delivered
(`outbound.delivered`), retried later with backoff (`policy.py`), or failed for good
(`outbound.failed` and a dead letter). Final outcomes are stored with their events in the
delivery's outbox and published after; `sweep_outboxes` publishes what a crash or a broker
error left there.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from s8_channels.adapters.delivery_store import Claimed, NewDelivery
from s8_channels.domain import delivery_events as events
from s8_channels.domain.delivery import (
    DELIVERED,
    FAILED,
    NONE,
    DeliveryError,
    SentReceipt,
    TransientError,
    Unroutable,
)
from s8_channels.domain.delivery_routing import ALL_DELIVERED, delivered_channels, is_ours
from s8_channels.domain.retry_policy import GiveUp, RetryAt, abandoned, after_failure
from s8_channels.metrics import ChannelMetrics
from s8_channels.ports import DeliveryStore, EventSink
from s8_channels.service.delivery_outbox import DeliveryOutbox
from s8_channels.service.senders import Senders
from s8_channels.settings import ChannelsSettings
from s8_shared.contracts import Channel, OutboundMessageRequested, utcnow

log = logging.getLogger("s8.channels.delivery")

# A send may take a few platform round trips (SMTP: connect, STARTTLS, login, data; a long
# text: several messages): its guard is this many timeouts, and the lease outlives it.
GUARD_TIMEOUTS = 4
LEASE_MARGIN_SECONDS = 30.0


@dataclass(frozen=True)
class DeliveryConfig:
    producer: str
    source_topic: str  # the physical name of the requests' topic, for dead letters
    max_attempts: int
    backoff_seconds: float
    send_guard_seconds: float
    retention: timedelta
    # The channels this deployment has a sender configured for (all, unless told): what
    # has none is another delivery system's, not a failure here.
    delivered: frozenset[Channel] = ALL_DELIVERED

    @classmethod
    def of(cls, settings: ChannelsSettings, source_topic: str) -> DeliveryConfig:
        return cls(
            producer=settings.service_name,
            source_topic=source_topic,
            max_attempts=settings.delivery_attempts,
            backoff_seconds=settings.delivery_backoff_seconds,
            send_guard_seconds=settings.delivery_timeout_seconds * GUARD_TIMEOUTS,
            retention=timedelta(days=settings.idempotency_retention_days),
            delivered=delivered_channels(
                mail=settings.smtp_relay_host is not None,
                sms=bool(settings.twilio_accounts),
                social=settings.meta is not None
                or any(a.access_token is not None for a in settings.zalo_accounts),
            ),
        )

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.send_guard_seconds + LEASE_MARGIN_SECONDS)


class DeliveryService:
    def __init__(
        self,
        store: DeliveryStore,
        senders: Senders,
        publisher: EventSink,
        metrics: ChannelMetrics,
        config: DeliveryConfig,
        *,
        now: Callable[[], datetime] = utcnow,
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.senders = senders
        self.outbox = DeliveryOutbox(store, publisher)
        self.metrics = metrics
        self.config = config
        self.now = now
        self.owner = owner or f"{socket.gethostname()}:{secrets.token_hex(4)}"

    # --- consuming ------------------------------------------------------------------
    async def record(self, event: OutboundMessageRequested) -> bool:
        """Records a request this service delivers; False for one it does not deliver or
        that was recorded before (a redelivery, a repeat: it is sent once)."""
        request = event.payload
        if not is_ours(request, self.config.delivered):
            return False
        return await self.store.record(
            NewDelivery(
                outbound_id=request.outbound_id,
                request=event.model_dump_json(),
                requested_at=event.occurred_at,
                channel=request.channel.value,
                customer_id=request.customer_id,
                ticket_id=request.ticket_id,
                recorded_at=self.now(),
            )
        )

    # --- attempting -----------------------------------------------------------------
    async def claim(self) -> Claimed | None:
        """One due delivery, leased to this replica (None when nothing is due)."""
        return await self.store.claim_due(
            self.now(), self.config.lease, secrets.token_hex(8), self.owner
        )

    async def attempt(self, claimed: Claimed) -> None:
        request = OutboundMessageRequested.model_validate_json(claimed.request)
        try:
            route = await self.senders.route(request.payload, claimed.attempts)
        except Unroutable as exc:
            await self._failed_attempt(claimed, request, exc.provider, exc)
            return
        except Exception as exc:  # the recipients' store did not answer
            error = TransientError(f"choosing the sender failed: {exc!r}")
            await self._failed_attempt(claimed, request, NONE, error)
            return
        gave_up = abandoned(claimed.attempts, self.config.max_attempts)
        if gave_up is not None:
            await self._give_up(claimed, request, route.provider, gave_up)
            return
        try:
            async with asyncio.timeout(self.config.send_guard_seconds):
                receipt = await route.sender.send(route.delivery)
        except DeliveryError as exc:
            await self._failed_attempt(claimed, request, route.provider, exc)
        except TimeoutError:
            error = TransientError(f"no answer within {self.config.send_guard_seconds:g} s")
            await self._failed_attempt(claimed, request, route.provider, error)
        except Exception as exc:  # an error the sender does not classify: try again
            log.exception("unexpected send error", extra={"outbound_id": claimed.outbound_id})
            error = TransientError(f"unexpected {type(exc).__name__}: {exc}")
            await self._failed_attempt(claimed, request, route.provider, error)
        else:
            await self._delivered(claimed, request, route.provider, receipt)

    async def _delivered(
        self,
        claimed: Claimed,
        request: OutboundMessageRequested,
        provider: str,
        receipt: SentReceipt,
    ) -> None:
        now = self.now()
        items = events.delivered(
            request,
            provider=provider,
            attempts=claimed.attempts,
            receipt=receipt,
            producer=self.config.producer,
            now=now,
        )
        fields = {
            "provider": provider,
            "provider_message_id": receipt.provider_message_id,
            "provider_message_ids": list(receipt.part_ids),
            "delivered_at": now,
            "finished_at": now,
        }
        if not await self.store.finish(
            claimed.outbound_id, claimed.claim, DELIVERED, fields, items
        ):
            log.warning(
                "delivered, but another replica holds the delivery now", extra=_ids(claimed)
            )
            return
        self.metrics.deliveries.labels(provider, "delivered").inc()
        waited = (now - request.occurred_at).total_seconds()
        self.metrics.delivery_seconds.labels(provider).observe(max(waited, 0.0))
        await self.outbox.publish(claimed.outbound_id, items)

    async def _failed_attempt(
        self,
        claimed: Claimed,
        request: OutboundMessageRequested,
        provider: str,
        error: DeliveryError,
    ) -> None:
        decision = after_failure(
            error,
            claimed.attempts,
            max_attempts=self.config.max_attempts,
            base_seconds=self.config.backoff_seconds,
            now=self.now(),
        )
        if isinstance(decision, GiveUp):
            await self._give_up(claimed, request, provider, decision)
            return
        await self._retry(claimed, provider, decision)

    async def _retry(self, claimed: Claimed, provider: str, retry: RetryAt) -> None:
        if await self.store.reschedule(
            claimed.outbound_id, claimed.claim, retry.at, retry.reason, provider
        ):
            self.metrics.deliveries.labels(provider, "retried").inc()
            log.info(
                "delivery will be retried",
                extra={
                    **_ids(claimed),
                    "provider": provider,
                    "in_seconds": retry.delay_seconds,
                    "error": retry.reason,
                },
            )

    async def _give_up(
        self,
        claimed: Claimed,
        request: OutboundMessageRequested,
        provider: str,
        gave_up: GiveUp,
    ) -> None:
        now = self.now()
        items = events.failed(
            request,
            provider=provider,
            attempts=claimed.attempts,
            reason=gave_up.reason,
            permanent=gave_up.permanent,
            producer=self.config.producer,
            source_topic=self.config.source_topic,
            now=now,
        )
        fields = {
            "provider": provider,
            "reason": gave_up.reason,
            "permanent": gave_up.permanent,
            "failed_at": now,
            "finished_at": now,
        }
        if not await self.store.finish(claimed.outbound_id, claimed.claim, FAILED, fields, items):
            return
        self.metrics.deliveries.labels(provider, "failed").inc()
        log.warning(
            "delivery failed",
            extra={**_ids(claimed), "provider": provider, "reason": gave_up.reason},
        )
        await self.outbox.publish(claimed.outbound_id, items)

    # --- publishing -----------------------------------------------------------------
    async def sweep_outboxes(self) -> int:
        """Publishes what a crash or a broker error left in deliveries' outboxes."""
        return await self.outbox.sweep()

    async def purge(self) -> int:
        """Forgets deliveries finished longer ago than the idempotency retention."""
        return await self.store.purge_finished(self.now() - self.config.retention)


def _ids(claimed: Claimed) -> dict[str, Any]:
    return {"outbound_id": claimed.outbound_id, "attempt": claimed.attempts}
