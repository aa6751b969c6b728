"""Accepting a customer message: normalize, resolve the customer, thread, classify, open
or continue a ticket with its outbox, publish. Every step is idempotent, so a redelivered
message has no second effect."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from s8_intake.adapters.customer_store import ResolvedCustomer
from s8_intake.domain.first_answer import IncidentMatch, SelfServiceData, open_answered
from s8_intake.domain.model import Classification, NormalizedMessage
from s8_intake.domain.normalize import normalize
from s8_intake.domain.threading import ThreadingKind, ThreadingPolicy, decide
from s8_intake.domain.ticket import (
    CustomerView,
    add_customer_message,
    message_info,
    ticket_id_for,
)
from s8_intake.metrics import IntakeMetrics
from s8_intake.ports import Clock, Customers, Messages, Tickets
from s8_intake.service.identities import settle
from s8_intake.service.publishing import OutboxPublisher, traced
from s8_shared import topics
from s8_shared.contracts import (
    Channel,
    CustomerTier,
    Event,
    InboundMessage,
    InvalidMessage,
    deterministic_id,
    parse_inbound,
    utcnow,
)
from s8_shared.contracts.envelope import load_json_object, validation_reason
from s8_shared.contracts.tickets import BotConversationHandled, BotConversationPayload
from s8_shared.cpu import CpuWorker
from s8_shared.mongo import Document
from s8_shared.nlp.sentiment import Sentiment

log = logging.getLogger("s8.intake")
MAX_CAS_ATTEMPTS = 8


class Understanding(Protocol):
    """What intake's data says about a message (`s8_intake.selfservice.SelfService`)."""

    threading_policy: ThreadingPolicy

    def sentiment(self, text: str) -> Sentiment: ...

    def classify(
        self, msg: NormalizedMessage, tier: CustomerTier, mood: Sentiment
    ) -> Classification: ...

    def answers(self) -> SelfServiceData: ...


class ProblemMatcher(Protocol):
    """Known problems (`service.problems.KnownProblems`)."""

    async def match(
        self, customer: Document, msg: NormalizedMessage, classification: Classification
    ) -> IncidentMatch | None: ...


@dataclass(frozen=True)
class Accepted:
    outcome: str  # created, joined, reopened, duplicate, skipped
    ticket_id: str | None = None
    reason: str | None = None

    @property
    def duplicate(self) -> bool:
        return self.outcome == "duplicate"


def decode_inbound(raw: bytes | str) -> InboundMessage:
    data = load_json_object(raw)
    try:
        return parse_inbound(data)
    except ValidationError as exc:
        raise InvalidMessage(f"invalid inbound message: {validation_reason(exc)}") from exc


@dataclass
class _Message:
    """One message on its way in: what is computed about it, computed once."""

    msg: NormalizedMessage
    customer: ResolvedCustomer
    sentiment: Sentiment
    now: datetime
    classified: dict[CustomerTier, Classification] = field(default_factory=dict)

    def view(self) -> CustomerView:
        tier = CustomerTier(self.customer.doc.get("tier", "standard"))
        return CustomerView(self.customer.customer_id, tier)


class Accepting:
    def __init__(
        self,
        *,
        tickets: Tickets,
        messages: Messages,
        customers: Customers,
        understanding: Understanding,
        problems: ProblemMatcher,
        publishing: OutboxPublisher,
        metrics: IntakeMetrics,
        own_addresses: frozenset[str] = frozenset(),
        clock: Clock = utcnow,
        cpu: CpuWorker | None = None,
    ) -> None:
        self.tickets = tickets
        self.messages = messages
        self.customers = customers
        self.understanding = understanding
        self.problems = problems
        self.publishing = publishing
        self.metrics = metrics
        self.own_addresses = own_addresses
        self.clock = clock
        # The CPU-bound steps (normalizing, sentiment, classification) run in one worker
        # thread (s8_shared.cpu): bounded as they are, a burst of long messages must not
        # hold the event loop (HTTP, health probes, every consumer's heartbeats).
        self.cpu = cpu or CpuWorker("intake-cpu")

    async def accept(self, inbound: InboundMessage) -> Accepted:
        now = self.clock()
        msg = await self.cpu.run(normalize, inbound, own_addresses=self.own_addresses)
        self.metrics.received.labels(msg.channel.value).inc()
        if msg.skip_reason:
            await self.messages.record_skipped(msg.dedup_key, msg.skip_reason, now, inbound.raw)
            self.metrics.skipped.labels(msg.channel.value).inc()
            return Accepted("skipped", reason=msg.skip_reason)
        if msg.channel == Channel.CHATBOT and not msg.handoff_requested:
            # The bot is handling it: no ticket, but counted (the handoff rate's denominator).
            await self._bot_handled(msg, now)
            return Accepted("skipped", reason="bot conversation without handoff")

        customer = await self.customers.resolve(msg.identities, now, source=msg.dedup_key)
        customer = await settle(self.customers, self.tickets, msg, customer, now)
        # Every write of a message comes after its customer exists: a customer this message
        # just created (from its identities) means no earlier delivery of it got further.
        first_contact = customer.created and bool(msg.identities)
        claimed = None if first_contact else await self.messages.get(msg.dedup_key)
        if claimed is not None and claimed.get("state") == "applied":
            await self.publishing.flush(claimed["ticket_id"])
            return Accepted("duplicate", claimed["ticket_id"])
        if claimed is None:
            claimed = await self._claim(msg, customer, now)
        ticket_id: str = claimed["ticket_id"]
        sentiment = await self.cpu.run(self.understanding.sentiment, msg.text)
        if sentiment.negative:
            self.metrics.negative.labels(msg.channel.value).inc()
        message = _Message(msg, customer, sentiment, now)
        outcome, stored = await self._apply(ticket_id, claimed, message)
        info = message_info(msg, sentiment, now)
        await self.messages.mark_applied(info, inbound.raw, msg.details, claimed)
        if stored is not None:
            await self.publishing.flush_new(ticket_id, stored)
        else:
            await self.publishing.flush(ticket_id)
        return Accepted(outcome, ticket_id)

    async def _claim(
        self, msg: NormalizedMessage, customer: ResolvedCustomer, now: datetime
    ) -> Document:
        candidates = await self.tickets.candidates(
            token=msg.ticket_token,
            thread_refs=msg.thread_refs,
            conversation_key=msg.conversation_key,
            customer_ids=customer.related_ids,
        )
        threading = decide(msg, candidates, now, self.understanding.threading_policy)
        own = ticket_id_for(msg.dedup_key)
        if threading.ticket_id is not None and await self.tickets.load(own) is not None:
            # Redelivered after a crash between opening its ticket and being recorded as
            # applied, while a later message opened a newer ticket of the conversation:
            # the message stays in the ticket it opened (applied there once).
            threading = replace(threading, kind=ThreadingKind.NEW, ticket_id=None)
        if threading.ticket_id is None:
            # A new ticket: its id derives from the message, and its insert (applied once)
            # records the decision, so no claim is stored first.
            return {
                "ticket_id": own,
                "threading": threading.kind.value,
                "linked_ticket_id": threading.linked_ticket_id,
            }
        # Joining a ticket: the decision is recorded first, so a redelivery finds the same
        # one even if the conversation changed meanwhile.
        return await self.messages.claim(
            msg.dedup_key, threading.ticket_id, threading.kind.value, threading.linked_ticket_id
        )

    async def _classify(self, message: _Message, tier: CustomerTier) -> Classification:
        """Once per message (and tier: a ticket keeps the tier it was opened with)."""
        if tier not in message.classified:
            message.classified[tier] = await self.cpu.run(
                self.understanding.classify, message.msg, tier, message.sentiment
            )
        return message.classified[tier]

    async def _apply(
        self, ticket_id: str, claimed: Document, message: _Message
    ) -> tuple[str, list[Event[Any]] | None]:
        """The outcome, and the events a new ticket was stored with."""
        msg, now = message.msg, message.now
        # A message the claim filed as a new ticket is inserted straight away; the load
        # is for a redelivery (the ticket exists) and for messages joining one.
        new = ticket_id == ticket_id_for(msg.dedup_key)
        for _ in range(MAX_CAS_ATTEMPTS):
            loaded = None if new else await self.tickets.load(ticket_id)
            new = False
            if loaded is None:
                stored = await self._open(ticket_id, claimed, message)
                if stored is not None:
                    return "created", stored
                continue  # created meanwhile by a redelivery: apply as a follow-up
            state, applied = loaded
            if msg.dedup_key in applied:
                return "duplicate", None
            classification = await self._classify(message, state.snapshot.customer_tier)
            change = add_customer_message(state, msg, classification, message.sentiment, now)
            if await self.tickets.update(
                change.state, state.snapshot.version, msg.dedup_key, traced(change.events)
            ):
                reopened = claimed.get("threading") == ThreadingKind.REOPEN.value
                return ("reopened" if reopened else "joined"), None
        raise RuntimeError(f"ticket {ticket_id} kept changing; the message will be redelivered")

    async def _open(
        self, ticket_id: str, claimed: Document, message: _Message
    ) -> list[Event[Any]] | None:
        """The events the new ticket was stored with; None if it existed already."""
        customer = message.view()
        classification = await self._classify(message, customer.tier)
        incident = await self.problems.match(message.customer.doc, message.msg, classification)
        change = open_answered(
            ticket_id,
            customer,
            message.msg,
            classification,
            message.sentiment,
            message.now,
            claimed.get("linked_ticket_id"),
            incident=incident,
            self_service=self.understanding.answers(),
        )
        events = traced(change.events)
        if not await self.tickets.insert(change.state, message.msg.dedup_key, events):
            return None
        if incident is not None:
            self.metrics.incidents_linked.labels("auto").inc()
            log.info(
                "ticket linked to a known problem",
                extra={
                    "ticket_id": ticket_id,
                    "problem_id": incident.problem.problem_id,
                    "why": incident.why,
                },
            )
        self.metrics.count_new(change.state.snapshot)
        return events

    async def _bot_handled(self, msg: NormalizedMessage, now: datetime) -> None:
        customer = await self.customers.resolve(msg.identities, now, source=msg.dedup_key)
        event = BotConversationHandled(
            event_id=deterministic_id("bot-handled", msg.dedup_key),  # a redelivery repeats the id
            occurred_at=msg.sent_at or now,
            producer="s8-intake",
            payload=BotConversationPayload(
                conversation_id=msg.conversation_key or msg.dedup_key,
                customer_id=customer.customer_id,
                handed_off=False,
                bot_confidence=msg.bot_confidence,
            ),
        )
        await self.publishing.publish(topics.TICKETS, event)
        self.metrics.bot_conversations.labels("no").inc()
