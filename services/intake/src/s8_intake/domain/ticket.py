"""The ticket aggregate: pure functions from a state and a fact to a new state and events.

Every change bumps `version`; the events of one change carry the snapshot after it and
deterministic ids (ticket, version, type), so a change recomputed after a crash emits
the same event ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from s8_intake.domain.model import Classification, NormalizedMessage
from s8_shared.contracts import (
    Author,
    Channel,
    CustomerTier,
    Event,
    MessageInfo,
    Priority,
    TicketCreated,
    TicketCreatedPayload,
    TicketDeflected,
    TicketMessageAdded,
    TicketPriorityChanged,
    TicketSnapshot,
    TicketStatus,
    TicketStatusChanged,
    deterministic_id,
)
from s8_shared.nlp.sentiment import Sentiment

PRODUCER = "s8-intake"
PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


@dataclass(frozen=True)
class TicketState:
    snapshot: TicketSnapshot
    conversation_keys: tuple[str, ...] = ()
    email_message_ids: tuple[str, ...] = ()
    reply_channel: Channel | None = None
    reply_address: str | None = None
    priority_locked: bool = False


@dataclass(frozen=True)
class Change:
    state: TicketState
    events: list[Event[Any]] = field(default_factory=list)


@dataclass(frozen=True)
class CustomerView:
    customer_id: str
    tier: CustomerTier = CustomerTier.STANDARD


E = TypeVar("E", bound=Event[Any])


def emit(event_cls: type[E], snap: TicketSnapshot, when: datetime, **fields: Any) -> E:
    """A ticket event carrying `snap`, with the deterministic id of (ticket, version, type)."""
    type_name = event_cls.model_fields["type"].default
    payload_cls = event_cls.model_fields["payload"].annotation
    assert isinstance(payload_cls, type)
    return event_cls(
        type=type_name,
        event_id=event_id(snap, type_name),
        occurred_at=when,
        producer=PRODUCER,
        payload=payload_cls(ticket_id=snap.ticket_id, ticket=snap, **fields),
    )


def ticket_id_for(dedup_key: str) -> str:
    """A message opens at most one ticket: its id derives from the message."""
    return "T-" + deterministic_id("ticket", dedup_key).hex[:16]


def event_id(snapshot: TicketSnapshot, type_name: str) -> Any:
    return deterministic_id(snapshot.ticket_id, snapshot.version, type_name)


def message_info(msg: NormalizedMessage, sentiment: Sentiment, now: datetime) -> MessageInfo:
    return MessageInfo(
        message_id=msg.dedup_key,
        author=Author.CUSTOMER,
        author_id=msg.identities[0].value if msg.identities else None,
        channel=msg.channel,
        text=msg.text,
        public=True,
        sent_at=msg.sent_at or now,
        sentiment=sentiment.score,
        attachments=list(msg.attachments),
        text_cut_from=msg.text_cut_from,
    )


def _conversation_keys(msg: NormalizedMessage) -> tuple[str, ...]:
    return (msg.conversation_key,) if msg.conversation_key else ()


def open_ticket(
    ticket_id: str,
    customer: CustomerView,
    msg: NormalizedMessage,
    classification: Classification,
    sentiment: Sentiment,
    now: datetime,
    linked_ticket_id: str | None = None,
) -> Change:
    info = message_info(msg, sentiment, now)
    snapshot = TicketSnapshot(
        ticket_id=ticket_id,
        version=1,
        customer_id=customer.customer_id,
        channel=msg.channel,
        status=TicketStatus.NEW,
        priority=classification.priority,
        category=classification.category,
        required_skills=list(classification.required_skills),
        language=classification.language,
        customer_tier=customer.tier,
        region=msg.region,
        sentiment=sentiment.score,
        negative_sentiment=sentiment.negative,
        subject=msg.subject,
        customer_name=msg.display_name[:200] if msg.display_name else None,
        team=classification.team,
        tier_required=classification.tier_required,
        classified_by=dict(classification.explanations),
        bot_handoff=msg.channel == Channel.CHATBOT and msg.handoff_requested,
        callback_requested=classification.callback,
        linked_ticket_id=linked_ticket_id,
        contact_channel=msg.channel if msg.reply_address else None,
        contact=msg.reply_address,
        customer_messages=1,
        last_customer_message_at=info.sent_at,
        created_at=now,
        updated_at=now,
    )
    transcript = [
        MessageInfo(
            # Short ids: a channel message id may be 998 characters, one per line would not fit.
            message_id=f"{ticket_id}#t{n + msg.transcript_omitted}",
            author=Author(line.author),
            channel=msg.channel,
            text=line.text,
            sent_at=line.at or info.sent_at,
        )
        for n, line in enumerate(msg.transcript)
    ]
    state = TicketState(
        snapshot=snapshot,
        conversation_keys=_conversation_keys(msg),
        email_message_ids=(msg.dedup_key.split(":", 1)[1],) if msg.channel == Channel.EMAIL else (),
        reply_channel=msg.channel,
        reply_address=msg.reply_address,
    )
    event = TicketCreated(
        event_id=event_id(snapshot, "ticket.created"),
        occurred_at=now,
        producer=PRODUCER,
        payload=TicketCreatedPayload(
            ticket_id=ticket_id,
            ticket=snapshot,
            first_message=info,
            transcript=transcript,
            transcript_omitted=msg.transcript_omitted,
        ),
    )
    return Change(state, [event])


def status_event(
    before: TicketStatus, snap: TicketSnapshot, now: datetime, reason: str, actor: str | None = None
) -> TicketStatusChanged:
    return emit(
        TicketStatusChanged,
        snap,
        now,
        from_status=before,
        to_status=snap.status,
        reason=reason,
        actor_id=actor,
    )


def add_customer_message(
    state: TicketState,
    msg: NormalizedMessage,
    classification: Classification,
    sentiment: Sentiment,
    now: datetime,
) -> Change:
    """A customer writes again: the message joins the ticket; a solved or pending ticket
    opens again (the customer is waiting now); urgency found in the new message raises
    the priority unless an agent fixed it."""
    old = state.snapshot
    info = message_info(msg, sentiment, now)
    status = old.status
    reopened = old.status == TicketStatus.SOLVED
    if old.status in (TicketStatus.SOLVED, TicketStatus.PENDING):
        status = TicketStatus.OPEN
    raise_priority = (
        not state.priority_locked
        and PRIORITY_RANK[classification.priority] > PRIORITY_RANK[old.priority]
    )
    snap = old.model_copy(
        update={
            "version": old.version + 1,
            "status": status,
            "priority": classification.priority if raise_priority else old.priority,
            "sentiment": sentiment.score,
            "negative_sentiment": sentiment.negative,
            "customer_messages": old.customer_messages + 1,
            "last_customer_message_at": info.sent_at,
            "reopen_count": old.reopen_count + (1 if reopened else 0),
            "contact_channel": msg.channel if msg.reply_address else old.contact_channel,
            "contact": msg.reply_address or old.contact,
            "solved_at": None if reopened else old.solved_at,
            "callback_requested": old.callback_requested or classification.callback,
            "updated_at": now,
        }
    )
    events: list[Event[Any]] = [emit(TicketMessageAdded, snap, now, message=info)]
    if status != old.status:
        events.append(status_event(old.status, snap, now, "customer_replied"))
    if raise_priority:
        events.append(
            emit(
                TicketPriorityChanged,
                snap,
                now,
                from_priority=old.priority,
                to_priority=snap.priority,
            )
        )
    keys = tuple(dict.fromkeys(state.conversation_keys + _conversation_keys(msg)))
    email_ids = state.email_message_ids
    if msg.channel == Channel.EMAIL:
        email_ids = tuple(dict.fromkeys((*email_ids, msg.dedup_key.split(":", 1)[1])))
    new_state = replace(
        state,
        snapshot=snap,
        conversation_keys=keys,
        email_message_ids=email_ids,
        reply_channel=msg.channel,
        reply_address=msg.reply_address or state.reply_address,
    )
    return Change(new_state, events)


def deflect(state: TicketState, article_id: str, score: float, now: datetime) -> Change:
    """A FAQ article answered the first message: the ticket waits on the customer."""
    old = state.snapshot
    snap = old.model_copy(
        update={
            "version": old.version + 1,
            "status": TicketStatus.PENDING,
            "deflected": True,
            "updated_at": now,
        }
    )
    deflected = emit(TicketDeflected, snap, now, article_id=article_id, score=score)
    return Change(
        replace(state, snapshot=snap),
        [deflected, status_event(old.status, snap, now, "faq_auto_reply")],
    )
