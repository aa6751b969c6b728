"""The compensation desk: decides agents' `offer_compensation` actions within their limits,
records each offer with its audit trail, takes leads' approvals, and publishes the events.

Every step is idempotent (offer id = action id, ledger reservations keyed by offer id,
event ids derived from offer id and status), so redeliveries, retried requests and the
sweeper have no second effect.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter

from s8_intake.adapters.compensation_store import Ledger
from s8_intake.adapters.outbox import OutboxItem
from s8_intake.domain.compensation import (
    Agent,
    CompensationLimits,
    Decision,
    approve,
    decide,
    new_offer,
    offer_event,
)
from s8_intake.domain.status import TransitionRefused
from s8_shared import topics
from s8_shared.contracts import Event, TicketSnapshot, utcnow
from s8_shared.contracts.actions import OfferCompensation
from s8_shared.contracts.compensation import ApprovalDecision, CompensationOffer, OfferStatus
from s8_shared.pagination import PageRequest

log = logging.getLogger("s8.intake.compensation")
MAX_RESERVE_ATTEMPTS = 3


class OfferNotFound(LookupError):
    pass


class OfferStore(Protocol):
    """`adapters.compensation_store.CompensationStore`; tests use an in-memory one."""

    async def get(self, offer_id: str) -> CompensationOffer | None: ...
    async def insert(self, offer: CompensationOffer, events: Sequence[Event[Any]]) -> bool: ...
    async def decide(
        self, offer: CompensationOffer, expected: OfferStatus, events: Sequence[Event[Any]]
    ) -> bool: ...
    async def for_ticket(self, ticket_id: str) -> list[CompensationOffer]: ...
    async def with_status(
        self, status: OfferStatus, limit: int = 200
    ) -> list[CompensationOffer]: ...
    async def page(
        self, query: dict[str, str], page: PageRequest
    ) -> tuple[list[CompensationOffer], str | None]: ...
    async def many(self, offer_ids: Sequence[str]) -> list[CompensationOffer]: ...
    async def outbox(self, offer_id: str) -> list[OutboxItem]: ...
    async def remove_from_outbox(self, offer_id: str, event_ids: Sequence[str]) -> None: ...
    async def with_outbox(self, limit: int = 100) -> list[str]: ...
    async def ledger(self, agent_id: str, period: str) -> Ledger: ...
    async def reserve(
        self, agent_id: str, period: str, offer_id: str, amount: int, cap: int
    ) -> bool: ...
    async def add(self, agent_id: str, period: str, offer_id: str, amount: int) -> None: ...


class Agents(Protocol):
    async def get(self, agent_id: str) -> Agent | None: ...


class Holders(Protocol):
    async def holder(self, ticket_id: str) -> str | None: ...


class RawPublisher(Protocol):
    async def publish_raw(
        self,
        spec: topics.TopicSpec,
        value: bytes,
        *,
        key: bytes | None,
        headers: dict[str, str] | None = None,
    ) -> None: ...


class CompensationMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.offers = Counter(
            "s8_intake_compensation_offers_total",
            "Compensation offers by kind and outcome (granted, pending_approval, approved, "
            "rejected); an offer sent for approval counts again when decided.",
            ["kind", "status"],
            registry=registry,
        )
        self.amount = Counter(
            "s8_intake_compensation_amount_vnd_total",
            "Compensation amounts in VND by kind and outcome.",
            ["kind", "status"],
            registry=registry,
        )

    def count(self, offer: CompensationOffer) -> None:
        self.offers.labels(offer.kind, offer.status).inc()
        self.amount.labels(offer.kind, offer.status).inc(offer.amount)


@dataclass(frozen=True)
class Totals:
    agent_id: str
    period: str
    used: int
    cap: int | None
    offers: list[CompensationOffer]

    @property
    def remaining(self) -> int | None:
        return None if self.cap is None else max(0, self.cap - self.used)


class CompensationDesk:
    def __init__(
        self,
        *,
        limits: CompensationLimits,
        store: OfferStore,
        agents: Agents,
        publisher: RawPublisher,
        metrics: CompensationMetrics,
        clock: Callable[[], datetime] = utcnow,
        holders: Holders | None = None,
    ) -> None:
        self.holders = holders
        self.limits = limits
        self.store = store
        self.agents = agents
        self.publisher = publisher
        self.metrics = metrics
        self.clock = clock

    def _now(self) -> datetime:
        # The store keeps milliseconds: an offer read back equals the one returned now.
        now = self.clock()
        return now.replace(microsecond=now.microsecond // 1000 * 1000)

    # --- offers -----------------------------------------------------------------------
    async def offer(self, action: OfferCompensation, ticket: TicketSnapshot) -> None:
        await self.submit(action, ticket)

    async def submit(
        self, action: OfferCompensation, ticket: TicketSnapshot
    ) -> tuple[CompensationOffer, bool]:
        """The offer and whether this call created it (False: a repeat of the action)."""
        existing = await self._existing(action)
        if existing is not None:
            return existing, False
        now = self._now()
        agent = await self.agents.get(action.actor_id)
        period = self.limits.period_of(now)
        decision = await self._decide(action, agent, period)
        offer = new_offer(
            action,
            customer_id=ticket.customer_id,
            agent=agent,
            decision=decision,
            period=period,
            now=now,
        )
        if not await self.store.insert(offer, [offer_event(offer)]):
            existing = await self._existing(action)  # a racing delivery of the same action
            assert existing is not None
            return existing, False
        self.metrics.count(offer)
        await self.flush(offer.offer_id)
        return offer, True

    async def _existing(self, action: OfferCompensation) -> CompensationOffer | None:
        existing = await self.store.get(action.action_id)
        if existing is None:
            return None
        if existing.ticket_id != action.ticket_id:
            raise TransitionRefused(
                f"action id {action.action_id} was already used for ticket {existing.ticket_id}"
            )
        await self.flush(existing.offer_id)  # a crash may have left its event unpublished
        return existing

    async def _decide(
        self, action: OfferCompensation, agent: Agent | None, period: str
    ) -> Decision:
        if agent is None:
            return decide(self.limits, None, action.amount, 0)
        for _ in range(MAX_RESERVE_ATTEMPTS):
            ledger = await self.store.ledger(agent.agent_id, period)
            if action.action_id in ledger.offer_ids:
                # Reserved before a crash, offer not stored: decide as if not yet counted.
                used = ledger.total - action.amount
                return decide(self.limits, agent, action.amount, used)
            decision = decide(self.limits, agent, action.amount, ledger.total)
            if decision.status != "granted" or decision.cap is None:
                return decision
            if await self.store.reserve(
                agent.agent_id, period, action.action_id, action.amount, decision.cap
            ):
                return decision
            # Another offer took the room meanwhile: decide again on the fresh total.
        return Decision(
            "pending_approval", "the agent's period total kept changing: a lead decides"
        )

    # --- approvals --------------------------------------------------------------------
    async def decide(self, offer_id: str, decision: ApprovalDecision) -> CompensationOffer:
        """A lead's decision on a pending offer; repeating the same one changes nothing."""
        for _ in range(MAX_RESERVE_ATTEMPTS):
            offer = await self.store.get(offer_id)
            if offer is None:
                raise OfferNotFound(offer_id)
            approver = await self.agents.get(decision.approver_id)
            holder = await self.holders.holder(offer.ticket_id) if self.holders else None
            decided = approve(self.limits, offer, approver, decision, self._now(), holder)
            if decided is None:
                await self._settle(offer)
                return offer
            if await self.store.decide(decided, "pending_approval", [offer_event(decided)]):
                self.metrics.count(decided)
                await self._settle(decided)
                return decided
            # Decided by someone else meanwhile: the next round says same or conflict.
        raise RuntimeError(f"offer {offer_id} kept changing; retry")

    async def _settle(self, offer: CompensationOffer) -> None:
        if offer.status == "approved":
            # Approved offers count in the agent's period total (reporting, later grants)
            # even beyond the cap; before publishing, so a crash is redone by the sweeper.
            await self.store.add(offer.agent_id, offer.period, offer.offer_id, offer.amount)
        await self.flush(offer.offer_id)

    # --- reading ----------------------------------------------------------------------
    async def get(self, offer_id: str) -> CompensationOffer:
        offer = await self.store.get(offer_id)
        if offer is None:
            raise OfferNotFound(offer_id)
        return offer

    async def for_ticket(self, ticket_id: str) -> list[CompensationOffer]:
        return await self.store.for_ticket(ticket_id)

    async def with_status(self, status: OfferStatus) -> list[CompensationOffer]:
        return await self.store.with_status(status)

    async def page(
        self, page: PageRequest, *, status: OfferStatus | None = None, ticket_id: str | None = None
    ) -> tuple[list[CompensationOffer], str | None]:
        query = {k: v for k, v in (("status", status), ("ticket_id", ticket_id)) if v}
        return await self.store.page(query, page)

    async def totals(self, agent_id: str, period: str | None = None) -> Totals:
        period = period or self.limits.period_of(self.clock())
        ledger = await self.store.ledger(agent_id, period)
        agent = await self.agents.get(agent_id)
        cap = self.limits.cap_of(agent.tier) if agent else None
        offers = await self.store.many(ledger.offer_ids) if ledger.offer_ids else []
        return Totals(agent_id, period, ledger.total, cap, offers)

    # --- publishing -------------------------------------------------------------------
    async def flush(self, offer_id: str) -> int:
        items = await self.store.outbox(offer_id)
        for item in items:
            await self.publisher.publish_raw(
                item.spec,
                item.body.encode(),
                key=item.key.encode(),
                headers={"content-type": "application/json"},
            )
        if items:
            await self.store.remove_from_outbox(offer_id, [i.event_id for i in items])
        return len(items)

    async def sweep(self) -> int:
        """Finishes offers left behind by a crash between store and publish."""
        published = 0
        for offer_id in await self.store.with_outbox():
            offer = await self.store.get(offer_id)
            if offer is not None and offer.status == "approved":
                await self.store.add(offer.agent_id, offer.period, offer.offer_id, offer.amount)
            published += await self.flush(offer_id)
        return published
