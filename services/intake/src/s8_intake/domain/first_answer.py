"""What a new ticket gets first, decided in one place: a message about a known problem is
linked to it and told the problem's status; any other gets a confident FAQ answer (which
deflects it) or, where the customer waits, an acknowledgement with the promised time.

`open_answered` returns the final events: `ticket.created` carries the snapshot after the
first answer, so downstream knows from it alone that a FAQ answer or a held incident is
handling the ticket (no routing, no first-response clock until a human is needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from s8_intake.domain import faq, policy
from s8_intake.domain.model import Classification, KbArticle, NormalizedMessage
from s8_intake.domain.outbound import to_customer
from s8_intake.domain.outreach import incident_reply
from s8_intake.domain.problems import link_incident, routes_incident
from s8_intake.domain.ticket import Change, CustomerView, deflect, open_ticket
from s8_shared.contracts import Channel, Event, Priority
from s8_shared.contracts.problems import ProblemSnapshot
from s8_shared.nlp.sentiment import Sentiment

# A FAQ answer suits written questions; not calls, not a bot that already tried, not a
# customer who is angry or in a hurry.
DEFLECTABLE = frozenset(
    {Channel.EMAIL, Channel.WEB_FORM, Channel.LIVE_CHAT, Channel.SOCIAL, Channel.SMS}
)


@dataclass(frozen=True)
class SelfServiceData:
    """The FAQ articles and support policy a first answer is chosen from."""

    articles: Sequence[KbArticle]
    policy: policy.SupportPolicy
    faq_threshold: float


@dataclass(frozen=True)
class IncidentMatch:
    """The open problem a new ticket is an incident of, and why it matched."""

    problem: ProblemSnapshot
    why: str


def _reply_to(msg: NormalizedMessage) -> str:
    return msg.dedup_key.split(":", 1)[1]


def self_service_answer(
    change: Change, msg: NormalizedMessage, now: datetime, data: SelfServiceData
) -> tuple[Change, list[Event[Any]]]:
    """A confident FAQ match deflects the ticket (auto-reply, pending); otherwise channels
    where the customer waits get an acknowledgement."""
    snap = change.state.snapshot
    if (
        msg.channel in DEFLECTABLE
        and snap.priority in (Priority.NORMAL, Priority.LOW)
        and not snap.negative_sentiment
    ):
        found = faq.match(msg.text, data.articles, snap.language, threshold=data.faq_threshold)
        article = next(
            (a for a in data.articles if found and a.article_id == found.article_id), None
        )
        if found and article:
            deflected = deflect(change.state, found.article_id, found.score, now)
            reply = to_customer(
                deflected.state,
                "auto_reply_faq",
                f"{article.title}\n\n{article.body}",
                now,
                subject=article.title,
                article_id=article.article_id,
                reply_to_message_id=_reply_to(msg),
            )
            return deflected, [*deflected.events, *([reply] if reply else [])]
    if policy.acknowledges(data.policy, msg.channel):
        promised = policy.promise(data.policy, msg.channel, snap.priority)
        subject, text = policy.acknowledgement_text(
            data.policy, snap.language, snap.ticket_id, promised
        )
        ack = to_customer(
            change.state,
            "acknowledgement",
            text,
            now,
            subject=subject,
            reply_to_message_id=_reply_to(msg),
        )
        return change, [ack] if ack else []
    return change, []


def incident_answer(
    change: Change, msg: NormalizedMessage, incident: IncidentMatch, now: datetime
) -> tuple[Change, list[Event[Any]]]:
    """Linked to the known problem (held unless the customer's tier is routed) and told
    the problem's status."""
    problem = incident.problem
    routed = routes_incident(problem, change.state.snapshot.customer_tier)
    linked = link_incident(change.state, problem, now, by="auto", hold=not routed)
    language = linked.state.snapshot.language
    reply = to_customer(
        linked.state,
        "incident_status",
        incident_reply(problem, language, routed),
        now,
        subject=problem.title.for_language(language),
        reply_to_message_id=_reply_to(msg),
        problem_id=problem.problem_id,
    )
    return linked, [*linked.events, *([reply] if reply else [])]


def open_answered(
    ticket_id: str,
    customer: CustomerView,
    msg: NormalizedMessage,
    classification: Classification,
    sentiment: Sentiment,
    now: datetime,
    linked_ticket_id: str | None,
    *,
    incident: IncidentMatch | None,
    self_service: SelfServiceData,
) -> Change:
    """A new ticket with its first answer: the final state and every event, in order."""
    opened = open_ticket(ticket_id, customer, msg, classification, sentiment, now, linked_ticket_id)
    answered, extra = (
        incident_answer(opened, msg, incident, now)
        if incident is not None
        else self_service_answer(opened, msg, now, self_service)
    )
    created, *rest = opened.events
    if answered.state.snapshot.version > created.payload.ticket.version:
        created = created.model_copy(
            update={
                "payload": created.payload.model_copy(update={"ticket": answered.state.snapshot})
            }
        )
    return Change(answered.state, [created, *rest, *extra])
