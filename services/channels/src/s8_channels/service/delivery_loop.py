"""The delivery loop: claims due deliveries and attempts them concurrently, at most
`concurrency` at a time, refilling each freed slot while deliveries are due. Run by the
runtime every half second; one slow platform holds only the slots of its own sends."""

from __future__ import annotations

import asyncio
import logging

from s8_channels.adapters.delivery_store import Claimed
from s8_channels.service.delivery import DeliveryService
from s8_shared.observability.log_budget import LogBudget

log = logging.getLogger("s8.channels.delivery")


class DeliveryWorker:
    def __init__(self, service: DeliveryService, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.service = service
        self.concurrency = concurrency
        self.in_flight: set[asyncio.Task[None]] = set()
        self.log_budget = LogBudget(per_second=1)  # the store down: one line a second

    async def tick(self) -> int:
        """Starts every due delivery, waiting for a free slot when all are taken; returns
        when none is due (how many it started; some may still be running)."""
        started = 0
        while True:
            if len(self.in_flight) >= self.concurrency:
                await asyncio.wait(set(self.in_flight), return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                claimed = await self.service.claim()
            except Exception:
                if self.log_budget.take() is not None:
                    log.warning("claiming due deliveries failed", exc_info=True)
                return started
            if claimed is None:
                return started
            task = asyncio.create_task(self._run(claimed), name=f"deliver {claimed.outbound_id}")
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)
            started += 1

    async def _run(self, claimed: Claimed) -> None:
        try:
            await self.service.attempt(claimed)
        except Exception:
            # The outcome could not be stored: the lease runs out and the delivery is tried
            # again (a message already sent may go twice; none is lost).
            log.exception(
                "delivery attempt not recorded; it will be tried again",
                extra={"outbound_id": claimed.outbound_id, "attempt": claimed.attempts},
            )

    async def drain(self) -> None:
        """Waits for the deliveries started so far (tests, shutdown)."""
        while self.in_flight:
            await asyncio.gather(*set(self.in_flight), return_exceptions=True)

    async def stop(self, grace_seconds: float) -> None:
        """Lets running sends finish for `grace_seconds`, then cancels the rest (their
        leases run out and another replica, or the next start, tries them again)."""
        if not self.in_flight:
            return
        _, pending = await asyncio.wait(set(self.in_flight), timeout=grace_seconds)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
