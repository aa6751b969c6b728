"""The survey service: plans CSAT after a solve and NPS on a cadence, sends them when due
with a signed link, and takes answers once (changes allowed in a grace period).

Sending and answering store the change with the events it causes in the survey's outbox,
then publish them; what a broker error or a crash leaves there the sweeper publishes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from s8_shared import topics
from s8_shared.contracts import (
    Channel,
    Event,
    Language,
    OutboundMessagePayload,
    OutboundMessageRequested,
    TicketSnapshot,
    deterministic_id,
    utcnow,
)
from s8_shared.contracts.surveys import (
    SurveyFollowupPayload,
    SurveyFollowupRequested,
    SurveyRequested,
    SurveyRequestedPayload,
    SurveyResponded,
    SurveyRespondedPayload,
)
from s8_shared.data_files import load_model
from s8_shared.kafka.publisher import Publisher
from s8_shared.nlp import sentiment
from s8_shared.outbox import item_for
from s8_shared.topics import TopicSpec
from s8_survey.adapters.survey_store import SurveyStore
from s8_survey.domain.rules import (
    AnswerRefused,
    SurveyPolicy,
    accept_answer,
    needs_followup,
    plan_csat,
    plan_nps,
)
from s8_survey.domain.tokens import sign
from s8_survey.metrics import SurveyMetrics

log = logging.getLogger("s8.survey")
PRODUCER = "s8-survey"
INVITATIONS = {
    (
        "csat",
        "vi",
    ): "Cảm ơn bạn đã liên hệ. Bạn hài lòng thế nào với hỗ trợ cho yêu cầu [#{ticket}]? Chấm điểm tại: {link}",
    (
        "csat",
        "en",
    ): "Thanks for contacting us. How satisfied were you with the help on [#{ticket}]? Rate us: {link}",
    (
        "nps",
        "vi",
    ): "Bạn có sẵn lòng giới thiệu chúng tôi cho bạn bè không (0–10)? Trả lời tại: {link}",
    ("nps", "en"): "How likely are you to recommend us to a friend (0–10)? Answer here: {link}",
}


class SurveyNotFound(LookupError):
    pass


class SurveyService:
    def __init__(
        self,
        *,
        store: SurveyStore,
        publisher: Publisher,
        policy: SurveyPolicy,
        hmac_key: bytes,
        base_url: str,
        metrics: SurveyMetrics,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.policy = policy
        self.key = hmac_key
        self.base_url = base_url.rstrip("/")
        self.now = clock
        self.metrics = metrics
        self.lexicon = load_model(sentiment.DEFAULT_LEXICON_PATH, sentiment.Lexicon)

    # --- planning -------------------------------------------------------------------------
    async def on_ticket_event(self, event: Event[Any]) -> None:
        snap: TicketSnapshot = event.payload.ticket
        if snap.status.value != "solved" or snap.contact is None or snap.contact_channel is None:
            return
        now = self.now()
        solved = await self.store.note_solved(snap.customer_id, snap.ticket_id)
        customer = await self.store.customer(snap.customer_id)
        csat = plan_csat(
            snap,
            already_surveyed=await self.store.for_ticket(snap.ticket_id, "csat") is not None,
            last_csat_sent_at=customer.get("last_csat_at"),
            now=now,
            policy=self.policy,
        )
        if csat.send and csat.send_at:
            survey_id = "S-" + deterministic_id("csat", snap.ticket_id).hex[:16]
            await self._schedule(survey_id, "csat", snap, csat.send_at)
        nps = plan_nps(
            solved_tickets=solved,
            last_nps_sent_at=customer.get("last_nps_at"),
            now=now,
            policy=self.policy,
        )
        if nps.send and nps.send_at:
            survey_id = "N-" + deterministic_id("nps", snap.customer_id, snap.ticket_id).hex[:16]
            await self._schedule(survey_id, "nps", snap, nps.send_at)

    async def _schedule(
        self, survey_id: str, kind: str, snap: TicketSnapshot, send_at: datetime
    ) -> None:
        scheduled = await self.store.schedule(
            {
                "_id": survey_id,
                "kind": kind,
                "ticket_id": snap.ticket_id,
                "customer_id": snap.customer_id,
                "channel": snap.contact_channel.value
                if snap.contact_channel
                else snap.channel.value,
                "to": snap.contact,
                "language": snap.language.value,
                "state": "scheduled",
                "send_at": send_at,
                "expires_at": send_at + self.policy.link_lifetime,
                "revision": 0,
            }
        )
        if (
            scheduled
        ):  # throttling counts from the planned send, so two solves close together ask once
            await self.store.note_planned(snap.customer_id, kind, send_at)

    # --- sending ------------------------------------------------------------------------
    def link(self, survey_id: str, expires_at: datetime) -> str:
        return f"{self.base_url}/s/{sign(survey_id, expires_at, self.key)}"

    async def send_due(self) -> int:
        sent = 0
        while (doc := await self.store.next_due(self.now())) is not None:
            at = self.now()
            events = self._invitation(doc, at)
            if not await self.store.mark_sent(doc["_id"], at, [item_for(s, e) for s, e in events]):
                continue  # another replica sent it
            await self._publish(doc["_id"], events)
            self.metrics.sent.labels(doc["kind"], doc["channel"]).inc()
            sent += 1
        return sent

    def _invitation(self, doc: dict[str, Any], at: datetime) -> list[tuple[TopicSpec, Event[Any]]]:
        link = self.link(doc["_id"], doc["expires_at"])
        language = doc["language"] if doc["language"] in ("vi", "en") else "vi"
        text = INVITATIONS[(doc["kind"], language)].format(ticket=doc.get("ticket_id"), link=link)
        outbound = OutboundMessageRequested(
            event_id=deterministic_id("survey-outbound", doc["_id"]),
            occurred_at=at,
            producer=PRODUCER,
            payload=OutboundMessagePayload(
                outbound_id=doc["_id"],
                ticket_id=doc.get("ticket_id"),
                customer_id=doc["customer_id"],
                channel=Channel(doc["channel"]),
                to=doc["to"],
                language=Language(language),
                kind="survey",
                subject="Khảo sát hài lòng" if language == "vi" else "How did we do?",
                text=text,
            ),
        )
        requested = SurveyRequested(
            event_id=deterministic_id("survey-requested", doc["_id"]),
            occurred_at=at,
            producer=PRODUCER,
            payload=SurveyRequestedPayload(
                survey_id=doc["_id"],
                kind=doc["kind"],
                ticket_id=doc.get("ticket_id"),
                customer_id=doc["customer_id"],
                channel=Channel(doc["channel"]),
                language=Language(language),
                link=link,
                expires_at=doc["expires_at"],
            ),
        )
        return [(topics.OUTBOUND, outbound), (topics.SURVEYS, requested)]

    async def _publish(self, survey_id: str, events: list[tuple[TopicSpec, Event[Any]]]) -> bool:
        """Publishes what the change stored, then removes it from the outbox; on a broker
        error it stays there for the sweeper (the change itself is durable: a customer's
        answer is not refused). True when everything was published."""
        try:
            for spec, event in events:
                await self.publisher.publish(spec, event)
        except Exception:
            log.warning("publishing failed; the survey's outbox keeps it", exc_info=True)
            return False
        if events:
            await self.store.outbox.remove(survey_id, [str(e.event_id) for _, e in events])
        return True

    async def sweep_outboxes(self) -> int:
        """Publishes what a broker error or a crash left in surveys' outboxes."""
        swept = 0
        for survey_id in await self.store.outbox.pending():
            items = await self.store.outbox.items(survey_id)
            decoded = [(i, i.event()) for i in items]
            readable = [(i.spec, e) for i, e in decoded if e is not None]
            if not await self._publish(survey_id, readable):  # removes what it published
                return swept  # the broker is still unreachable: next round
            unreadable = [i.event_id for i, e in decoded if e is None]
            if unreadable:  # what this version cannot read is dropped, not retried for ever
                await self.store.outbox.remove(survey_id, unreadable)
            swept += len(items)
        return swept

    # --- answers ------------------------------------------------------------------------
    async def answer(self, survey_id: str, score: int, comment: str | None) -> dict[str, Any]:
        doc = await self.store.get(survey_id)
        if doc is None:
            raise SurveyNotFound(survey_id)
        now = self.now()
        if doc["state"] == "scheduled":
            raise AnswerRefused("this survey has not been sent yet")
        if now >= doc["expires_at"]:
            raise AnswerRefused("expired")
        revision = accept_answer(
            kind=doc["kind"],
            score=score,
            first_answered_at=doc.get("answered_at"),
            revision=int(doc.get("revision", 0)),
            now=now,
            policy=self.policy,
        )
        comment = (comment or "").strip()[:2000] or None
        mood = sentiment.score(comment, self.lexicon).score if comment else None
        fields: dict[str, Any] = {
            "score": score,
            "comment": comment,
            "comment_sentiment": mood,
            "updated_at": now,
        }
        if revision == 1:
            fields["answered_at"] = now
        events = self._answered({**doc, **fields, "revision": revision}, now)
        stored = await self.store.record_answer(
            survey_id, revision, fields, [item_for(s, e) for s, e in events]
        )
        if stored is None:
            raise AnswerRefused("answered twice at once; reload and try again")
        await self._publish(survey_id, events)
        if revision == 1:
            self.metrics.answers.labels(stored["kind"]).inc()
            self.metrics.scores.labels(stored["kind"]).observe(score)
            if needs_followup(stored["kind"], score):
                self.metrics.followups.labels(stored["kind"]).inc()
        return stored

    def _answered(self, doc: dict[str, Any], now: datetime) -> list[tuple[TopicSpec, Event[Any]]]:
        """survey.responded, and a follow-up request when the customer is unhappy."""
        responded = SurveyResponded(
            event_id=deterministic_id("survey-responded", doc["_id"], doc["revision"]),
            occurred_at=now,
            producer=PRODUCER,
            payload=SurveyRespondedPayload(
                survey_id=doc["_id"],
                kind=doc["kind"],
                ticket_id=doc.get("ticket_id"),
                customer_id=doc["customer_id"],
                channel=Channel(doc["channel"]),
                score=doc["score"],
                comment=doc.get("comment"),
                comment_sentiment=doc.get("comment_sentiment"),
                answered_at=doc["answered_at"],
                revision=doc["revision"],
            ),
        )
        events: list[tuple[TopicSpec, Event[Any]]] = [(topics.SURVEYS, responded)]
        if needs_followup(doc["kind"], doc["score"]):
            # One follow-up per survey: the id does not depend on the revision.
            followup = SurveyFollowupRequested(
                event_id=deterministic_id("survey-followup", doc["_id"]),
                occurred_at=now,
                producer=PRODUCER,
                payload=SurveyFollowupPayload(
                    survey_id=doc["_id"],
                    kind=doc["kind"],
                    ticket_id=doc.get("ticket_id"),
                    customer_id=doc["customer_id"],
                    score=doc["score"],
                    comment=doc.get("comment"),
                    language=Language(doc["language"]),
                ),
            )
            events.append((topics.SURVEYS, followup))
        return events


def policy_of(settings: Any) -> SurveyPolicy:
    return SurveyPolicy(
        csat_delay=timedelta(seconds=settings.csat_delay_seconds),
        csat_throttle=timedelta(days=settings.csat_throttle_days),
        csat_sampling=settings.csat_sampling,
        nps_cadence=timedelta(days=settings.nps_cadence_days),
        link_lifetime=timedelta(days=settings.link_lifetime_days),
        answer_grace=timedelta(minutes=settings.answer_grace_minutes),
    )
