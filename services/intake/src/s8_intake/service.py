"""Intake's application service: normalize, resolve the customer, thread, classify,
store with an outbox, publish. Every step is idempotent, so a redelivered message or
action has no second effect."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from s8_intake.adapters.customer_store import CustomerStore
from s8_intake.adapters.message_store import MessageStore
from s8_intake.adapters.outbox import OutboxItem
from s8_intake.adapters.ticket_store import TicketStore
from s8_intake.domain.actions import apply_action
from s8_intake.domain.identities import normalize_identity
from s8_intake.domain.model import Classification, NormalizedMessage
from s8_intake.domain.normalize import normalize
from s8_intake.domain.outbound import to_customer
from s8_intake.domain.problems import (
    incident_reply,
    link_incident,
    routes_incident,
    unlink_incident,
)
from s8_intake.domain.status import TransitionRefused
from s8_intake.domain.threading import ThreadingKind, decide
from s8_intake.domain.ticket import (
    PRIORITY_RANK,
    Change,
    CustomerView,
    TicketState,
    add_customer_message,
    message_info,
    open_ticket,
    ticket_id_for,
)
from s8_intake.intake_metrics import IntakeMetrics
from s8_intake.selfservice import SelfService
from s8_shared import topics
from s8_shared.contracts import (
    Channel,
    CustomerProfileUpsert,
    CustomerTier,
    Event,
    InboundMessage,
    InvalidMessage,
    MessageInfo,
    Priority,
    TicketAction,
    TicketSnapshot,
    TicketStatus,
    deterministic_id,
    parse_inbound,
    utcnow,
)
from s8_shared.contracts.actions import LinkProblem, Merge, OfferCompensation, UnlinkProblem
from s8_shared.contracts.compensation import CompensationOffer
from s8_shared.contracts.envelope import load_json_object, validation_reason
from s8_shared.contracts.problems import ProblemSnapshot
from s8_shared.contracts.surveys import SurveyFollowupPayload
from s8_shared.contracts.tickets import BotConversationHandled, BotConversationPayload
from s8_shared.cpu import CpuWorker
from s8_shared.kafka.publisher import EventPublisher
from s8_shared.nlp.sentiment import Sentiment
from s8_shared.observability.tracing import current_trace_headers
from s8_shared.topics import TopicSpec

log = logging.getLogger("s8.intake")
NEUTRAL = Sentiment(score=0.0, negative=False)
MAX_CAS_ATTEMPTS = 8


class TicketNotFound(LookupError):
    pass


class CompensationDesk(Protocol):
    """Decides agents' compensation offers (see `s8_intake.compensation`)."""

    async def offer(self, action: OfferCompensation, ticket: TicketSnapshot) -> None: ...

    async def for_ticket(self, ticket_id: str) -> list[CompensationOffer]: ...


class IncidentDesk(Protocol):
    """Known problems, as intake's message and action handling needs them (see
    `s8_intake.problems`)."""

    async def match(
        self, customer_id: str, msg: NormalizedMessage, classification: Classification
    ) -> tuple[ProblemSnapshot, str] | None: ...

    async def problem(self, problem_id: str) -> ProblemSnapshot | None: ...

    async def contacts_of(self, customer_ids: Sequence[str]) -> list[dict[str, Any]]: ...


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


class IntakeService:
    def __init__(
        self,
        *,
        tickets: TicketStore,
        messages: MessageStore,
        customers: CustomerStore,
        selfservice: SelfService,
        publisher: EventPublisher,
        metrics: IntakeMetrics,
        own_addresses: frozenset[str] = frozenset(),
        clock: Callable[[], datetime] = utcnow,
        cpu: CpuWorker | None = None,
    ) -> None:
        self.cpu = cpu or CpuWorker("intake-cpu")
        self.tickets = tickets
        self.messages = messages
        self.customers = customers
        self.selfservice = selfservice
        self.publisher = publisher
        self.metrics = metrics
        self.own_addresses = own_addresses
        self.clock = clock
        self.compensation: CompensationDesk | None = None
        self.problems: IncidentDesk | None = None

    # --- customer messages ------------------------------------------------------------
    async def accept(self, inbound: InboundMessage) -> Accepted:
        now = self.clock()
        # The CPU-bound steps (normalizing, sentiment, classification) run in one worker
        # thread (s8_shared.cpu): bounded as they are, a burst of long messages must not hold the event
        # loop (HTTP, health probes, every consumer's heartbeats).
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

        claimed = await self.messages.get(msg.dedup_key)
        if claimed is not None and claimed.get("state") == "applied":
            await self.flush(claimed["ticket_id"])
            return Accepted("duplicate", claimed["ticket_id"])

        customer_doc = await self.customers.resolve(msg.identities, now, source=msg.dedup_key)
        customer = CustomerView(
            customer_doc["_id"], CustomerTier(customer_doc.get("tier", "standard"))
        )
        if claimed is None:
            claimed = await self._claim(msg, customer.customer_id, now)
        ticket_id: str = claimed["ticket_id"]
        sentiment = await self.cpu.run(self.selfservice.sentiment, msg.text)  # once
        outcome = await self._apply_message(ticket_id, claimed, msg, customer, sentiment, now)
        info = message_info(msg, sentiment, now)
        await self.messages.mark_applied(info, inbound.raw, msg.details)
        await self.flush(ticket_id)
        return Accepted(outcome, ticket_id)

    async def _claim(
        self, msg: NormalizedMessage, customer_id: str, now: datetime
    ) -> dict[str, Any]:
        owners = await self.customers.owners(msg.identities)
        customer_ids = sorted({customer_id, *(c.customer_id for c in owners.values())})
        customer_ids += await self._merged_ids(customer_id)
        candidates = await self.tickets.candidates(
            token=msg.ticket_token,
            thread_refs=msg.thread_refs,
            conversation_key=msg.conversation_key,
            customer_ids=customer_ids,
        )
        threading = decide(msg, candidates, now, self.selfservice.threading_policy)
        ticket_id = threading.ticket_id or ticket_id_for(msg.dedup_key)
        return await self.messages.claim(
            msg.dedup_key, ticket_id, threading.kind.value, threading.linked_ticket_id
        )

    async def _merged_ids(self, customer_id: str) -> list[str]:
        return await self.customers.merged_into(customer_id)

    async def _apply_message(
        self,
        ticket_id: str,
        claimed: dict[str, Any],
        msg: NormalizedMessage,
        customer: CustomerView,
        sentiment: Sentiment,
        now: datetime,
    ) -> str:
        if sentiment.negative:
            self.metrics.negative.labels(msg.channel.value).inc()
        for _ in range(MAX_CAS_ATTEMPTS):
            loaded = await self.tickets.load(ticket_id)
            if loaded is None:
                classification = await self.cpu.run(
                    self.selfservice.classify, msg, customer.tier, sentiment
                )
                change = open_ticket(
                    ticket_id,
                    customer,
                    msg,
                    classification,
                    sentiment,
                    now,
                    claimed.get("linked_ticket_id"),
                )
                events = list(change.events)
                change, extra = await self._first_answer(change, msg, customer, classification, now)
                if change.state.snapshot.version > 1:
                    # Downstream must know from `ticket.created` alone that a FAQ answer is
                    # handling it: no routing, no first-response clock until the customer
                    # needs a human.
                    created = events[0]
                    events[0] = created.model_copy(
                        update={
                            "payload": created.payload.model_copy(
                                update={"ticket": change.state.snapshot}
                            )
                        }
                    )
                events += extra
                if await self.tickets.insert(change.state, msg.dedup_key, self._traced(events)):
                    self._count_new(change, msg)
                    return "created"
                continue  # created meanwhile by a redelivery: apply as a follow-up
            state, applied = loaded
            if msg.dedup_key in applied:
                return "duplicate"
            classification = await self.cpu.run(
                self.selfservice.classify, msg, state.snapshot.customer_tier, sentiment
            )
            change = add_customer_message(state, msg, classification, sentiment, now)
            if await self.tickets.update(
                change.state, state.snapshot.version, msg.dedup_key, self._traced(change.events)
            ):
                reopened = claimed.get("threading") == ThreadingKind.REOPEN.value
                return "reopened" if reopened else "joined"
        raise RuntimeError(f"ticket {ticket_id} kept changing; the message will be redelivered")

    async def _first_answer(
        self,
        change: Change,
        msg: NormalizedMessage,
        customer: CustomerView,
        classification: Classification,
        now: datetime,
    ) -> tuple[Change, list[Event[Any]]]:
        """A message about a known problem is linked to it and told the problem's status;
        any other new ticket gets a FAQ answer or an acknowledgement."""
        found = (
            await self.problems.match(customer.customer_id, msg, classification)
            if self.problems
            else None
        )
        if found is None:
            return self.selfservice.first_response(change, msg, now)
        problem, why = found
        routed = routes_incident(problem, customer.tier)
        linked = link_incident(change.state, problem, now, by="auto", hold=not routed)
        self.metrics.incidents_linked.labels("auto").inc()
        log.info(
            "ticket linked to a known problem",
            extra={
                "ticket_id": change.state.snapshot.ticket_id,
                "problem_id": problem.problem_id,
                "why": why,
            },
        )
        reply = to_customer(
            linked.state,
            "incident_status",
            incident_reply(problem, linked.state.snapshot.language, routed),
            now,
            subject=problem.title.for_language(linked.state.snapshot.language),
            reply_to_message_id=msg.dedup_key.split(":", 1)[1],
            problem_id=problem.problem_id,
        )
        return linked, [*linked.events, *([reply] if reply else [])]

    def _count_new(self, change: Change, msg: NormalizedMessage) -> None:
        snap = change.state.snapshot
        self.metrics.tickets.labels(snap.channel.value, snap.priority.value).inc()
        if snap.bot_handoff:
            self.metrics.bot_conversations.labels("yes").inc()
        if snap.deflected:
            self.metrics.deflected.labels(snap.channel.value).inc()

    async def _bot_handled(self, msg: NormalizedMessage, now: datetime) -> None:
        customer = await self.customers.resolve(msg.identities, now, source=msg.dedup_key)
        event = BotConversationHandled(
            event_id=deterministic_id("bot-handled", msg.dedup_key),  # a redelivery repeats the id
            occurred_at=msg.sent_at or now,
            producer="s8-intake",
            payload=BotConversationPayload(
                conversation_id=msg.conversation_key or msg.dedup_key,
                customer_id=customer["_id"],
                handed_off=False,
                bot_confidence=msg.bot_confidence,
            ),
        )
        await self.publisher.publish(topics.TICKETS, event)
        self.metrics.published.labels(topics.TICKETS.base_name).inc()
        self.metrics.bot_conversations.labels("no").inc()

    # --- quality control ---------------------------------------------------------------
    async def open_followup(self, payload: SurveyFollowupPayload) -> str:
        """An unhappy survey answer becomes a follow-up ticket for a senior agent, linked
        to the ticket it was about (once per survey)."""
        now = self.clock()
        ticket_id = ticket_id_for(f"survey:{payload.survey_id}")
        original = await self.tickets.load(payload.ticket_id) if payload.ticket_id else None
        state = original[0] if original else None
        scale = "5" if payload.kind == "csat" else "10"
        vi = payload.language.value == "vi"
        text = (
            f"Khách hàng chấm {payload.score}/{scale} ({payload.kind.upper()}). Góp ý: {payload.comment or '(không có)'}"
            if vi
            else f"Customer rated {payload.score}/{scale} ({payload.kind.upper()}). Comment: {payload.comment or '(none)'}"
        )
        channel = (state.reply_channel if state else None) or Channel.EMAIL
        msg = NormalizedMessage(
            channel=channel,
            dedup_key=f"survey:{payload.survey_id}",
            text=text,
            identities=(),
            sent_at=now,
            subject=("Theo dõi sau khảo sát" if vi else "Survey follow-up"),
            reply_address=state.reply_address if state else None,
        )
        base = self.selfservice.classify(
            msg, state.snapshot.customer_tier if state else CustomerTier.STANDARD, NEUTRAL
        )
        classification = replace(
            base,
            category=state.snapshot.category if state else base.category,
            required_skills=tuple(state.snapshot.required_skills)
            if state
            else base.required_skills,
            language=payload.language,
            priority=Priority.HIGH
            if PRIORITY_RANK[base.priority] < PRIORITY_RANK[Priority.HIGH]
            else base.priority,
            tier_required="L2",
            explanations={
                **base.explanations,
                "priority": "survey_followup",
                "tier_required": "survey_followup",
            },
        )
        customer = CustomerView(
            payload.customer_id, state.snapshot.customer_tier if state else CustomerTier.STANDARD
        )
        change = open_ticket(
            ticket_id, customer, msg, classification, NEUTRAL, now, payload.ticket_id
        )
        if await self.tickets.insert(
            change.state, msg.dedup_key, self._traced(list(change.events))
        ):
            self._count_new(change, msg)
        await self.flush(ticket_id)
        return ticket_id

    # --- agent actions ----------------------------------------------------------------
    async def act(self, action: TicketAction) -> TicketSnapshot:
        now = self.clock()
        if isinstance(action, OfferCompensation):
            # Decided by the compensation desk (limits, caps, approvals), not the ticket's
            # state machine; it keeps its own record per offer id.
            found = await self.tickets.load(action.ticket_id)
            if found is None:
                raise TicketNotFound(action.ticket_id)
            if self.compensation is None:
                raise TransitionRefused("compensation is not enabled on this intake")
            await self.compensation.offer(action, found[0].snapshot)
            return found[0].snapshot
        for _ in range(MAX_CAS_ATTEMPTS):
            loaded = await self.tickets.load(action.ticket_id)
            if loaded is None:
                raise TicketNotFound(action.ticket_id)
            state, applied = loaded
            key = f"action:{action.action_id}"
            if key in applied:
                await self.flush(action.ticket_id)
                return state.snapshot
            if isinstance(action, Merge):
                await self._check_merge_target(action)
            change = await self._change_for(state, action, now)
            if await self.tickets.update(
                change.state, state.snapshot.version, key, self._traced(change.events)
            ):
                for event in change.events:
                    message = getattr(event.payload, "message", None)
                    if isinstance(message, MessageInfo):
                        await self.messages.add_agent_message(action.ticket_id, message)
                self.metrics.actions.labels(action.kind).inc()
                await self.flush(action.ticket_id)
                return change.state.snapshot
        raise RuntimeError(f"ticket {action.ticket_id} kept changing; retry the action")

    async def _change_for(self, state: TicketState, action: TicketAction, now: datetime) -> Change:
        if isinstance(action, LinkProblem):
            problem = await self.problems.problem(action.problem_id) if self.problems else None
            if problem is None:
                raise TransitionRefused(f"no problem {action.problem_id}")
            self.metrics.incidents_linked.labels("agent").inc()
            return link_incident(state, problem, now, by="agent", actor_id=action.actor_id)
        if isinstance(action, UnlinkProblem):
            return unlink_incident(state, now, action.actor_id)
        return apply_action(state, action, now)

    async def _check_merge_target(self, action: Merge) -> None:
        target = await self.tickets.load(action.into_ticket_id)
        if target is None:
            raise TransitionRefused(f"no ticket {action.into_ticket_id} to merge into")
        if target[0].snapshot.status == TicketStatus.CLOSED:
            raise TransitionRefused("cannot merge into a closed ticket")

    # --- customers ----------------------------------------------------------------------
    async def upsert_customer(self, upsert: CustomerProfileUpsert) -> dict[str, Any]:
        now = self.clock()
        identities = [
            i for i in (normalize_identity(i) for i in upsert.identities) if i is not None
        ]
        if not identities:
            raise InvalidMessage("none of the identities is valid")
        doc = await self.customers.resolve(identities, now, source=f"upsert:{upsert.upsert_id}")
        fields = {
            k: (v.value if hasattr(v, "value") else v)
            for k, v in {
                "name": upsert.name,
                "tier": upsert.tier,
                "language": upsert.language,
                "region": upsert.region,
                "external_id": upsert.external_id,
                "preferred_channel": upsert.preferred_channel,
                "products": upsert.products,
            }.items()
            if v is not None
        }
        await self.customers.update_profile(doc["_id"], fields)
        return {**doc, **fields}

    async def customer_360(self, customer_id: str) -> dict[str, Any] | None:
        doc = await self.customers.get(customer_id)
        if doc is None:
            return None
        if doc.get("merged_into"):
            return await self.customer_360(doc["merged_into"])
        ids = [customer_id, *await self.customers.merged_into(customer_id)]
        return {
            "customer": doc,
            "identities": await self.customers.identities_of(ids),
            "tickets": await self.tickets.for_customers(ids),
            "merges": await self.customers.merges_of(customer_id),
            "proactive_contacts": await self.problems.contacts_of(ids) if self.problems else [],
        }

    # --- publishing -------------------------------------------------------------------
    def _traced(self, events: list[Event[Any]]) -> list[Event[Any]]:
        trace = current_trace_headers()
        return [e if e.trace else e.model_copy(update={"trace": trace}) for e in events]

    async def flush(self, ticket_id: str) -> int:
        """Publishes what the ticket's outbox holds, in order, then forgets it."""
        items = await self.tickets.outbox(ticket_id)
        await self.publish_items(items)
        if items:
            await self.tickets.remove_from_outbox(ticket_id, [i.event_id for i in items])
        return len(items)

    async def publish_raw(
        self,
        spec: TopicSpec,
        value: bytes,
        *,
        key: bytes | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Publishes and counts, so the live view and dashboards see every event intake
        writes (ticket outboxes, problems, compensation)."""
        await self.publisher.publish_raw(spec, value, key=key, headers=headers)
        self.metrics.published.labels(spec.base_name).inc()

    async def publish_items(self, items: Sequence[OutboxItem]) -> None:
        for item in items:
            await self.publish_raw(
                item.spec,
                item.body.encode(),
                key=item.key.encode(),
                headers={"content-type": "application/json"},
            )

    async def sweep_outboxes(self) -> int:
        """Publishes outboxes left behind by a crash between store and publish."""
        published = 0
        for ticket_id in await self.tickets.with_outbox():
            published += await self.flush(ticket_id)
        return published
