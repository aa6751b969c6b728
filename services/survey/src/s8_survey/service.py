"""The survey service: plans CSAT after a solve and NPS on a cadence, sends them when due
with a signed link, and takes answers once (changes allowed in a grace period).

Sending and answering store the change with the events it causes in the survey's outbox,
then publish them; what a broker error or a crash leaves there the sweeper publishes.
Its ports (store, publisher, clock) come through the constructor (`app.py`)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from s8_shared.contracts import Language, TicketSnapshot, deterministic_id, utcnow
from s8_shared.kafka.publisher import Publisher
from s8_shared.nlp import sentiment
from s8_shared.outbox import item_for
from s8_survey.catalogue import Catalogues
from s8_survey.domain.events import Emits, answer_events, invitation_events
from s8_survey.domain.rules import (
    AnswerRefused,
    SurveyPolicy,
    accept_answer,
    needs_followup,
    plan_csat,
    plan_nps,
)
from s8_survey.domain.tokens import sign, verify
from s8_survey.metrics import SurveyMetrics
from s8_survey.ports import Clock, SurveyRepository

log = logging.getLogger("s8.survey")


class SurveyNotFound(LookupError):
    pass


class SurveyService:
    def __init__(
        self,
        *,
        store: SurveyRepository,
        publisher: Publisher,
        policy: SurveyPolicy,
        hmac_key: bytes,
        base_url: str,
        metrics: SurveyMetrics,
        catalogues: Catalogues,
        lexicon: sentiment.Lexicon,
        clock: Clock = utcnow,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.policy = policy
        self.key = hmac_key
        self.base_url = base_url.rstrip("/")
        self.metrics = metrics
        self.catalogues = catalogues
        self.lexicon = lexicon
        self.now = clock

    # --- planning -------------------------------------------------------------------------
    async def on_ticket(self, snap: TicketSnapshot) -> None:
        """A solved ticket plans a CSAT survey, and an NPS one when its cadence allows."""
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
        channel = snap.contact_channel or snap.channel
        scheduled = await self.store.schedule(
            {
                "_id": survey_id,
                "kind": kind,
                "ticket_id": snap.ticket_id,
                "customer_id": snap.customer_id,
                "channel": channel.value,
                "to": snap.contact,
                "language": snap.language.value,
                "state": "scheduled",
                "send_at": send_at,
                "expires_at": send_at + self.policy.link_lifetime,
                "revision": 0,
            }
        )
        if scheduled:  # throttling counts from the planned send: two solves close together ask once
            await self.store.note_planned(snap.customer_id, kind, send_at)

    # --- sending ------------------------------------------------------------------------
    def link(self, survey_id: str, expires_at: datetime) -> str:
        return f"{self.base_url}/s/{sign(survey_id, expires_at, self.key)}"

    async def send_due(self) -> int:
        sent = 0
        while (doc := await self.store.next_due(self.now())) is not None:
            at = self.now()
            language = Language(self.catalogues.language_of(doc["language"]))
            texts = self.catalogues[language].invitation
            link = self.link(doc["_id"], doc["expires_at"])
            events = invitation_events(
                doc,
                language=language,
                link=link,
                subject=texts.subject,
                text=texts.text(doc["kind"], ticket=doc.get("ticket_id"), link=link),
                at=at,
            )
            if not await self.store.mark_sent(doc["_id"], at, [item_for(s, e) for s, e in events]):
                continue  # another replica sent it
            await self._publish(doc["_id"], events)
            self.metrics.sent.labels(doc["kind"], doc["channel"]).inc()
            sent += 1
        return sent

    async def _publish(self, survey_id: str, events: Emits) -> bool:
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

    # --- the customer's link ------------------------------------------------------------
    async def open_link(self, token: str) -> dict[str, Any]:
        """The survey a link names: TokenRefused for a forged, malformed or expired link,
        SurveyNotFound when it names no survey."""
        parsed = verify(token, self.key, self.now())
        return await self.survey(parsed.survey_id)

    def is_final(self, doc: dict[str, Any]) -> bool:
        """Answered, and the grace period to change the answer is over."""
        answered_at: datetime | None = doc.get("answered_at")
        return answered_at is not None and self.now() - answered_at > self.policy.answer_grace

    async def survey(self, survey_id: str) -> dict[str, Any]:
        doc = await self.store.get(survey_id)
        if doc is None:
            raise SurveyNotFound(survey_id)
        return doc

    async def response_rates(self) -> dict[str, Any]:
        """Surveys scheduled, sent and answered by kind, and the share answered."""
        out: dict[str, Any] = {}
        for kind, states in (await self.store.rates()).items():
            sent = states.get("sent", 0) + states.get("answered", 0)
            answered = states.get("answered", 0)
            out[kind] = {
                "scheduled": states.get("scheduled", 0),
                "sent": sent,
                "answered": answered,
                "response_rate": answered / sent if sent else None,
            }
        return out

    # --- answers ------------------------------------------------------------------------
    async def answer(self, survey_id: str, score: int, comment: str | None) -> dict[str, Any]:
        doc = await self.survey(survey_id)
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
        events = answer_events({**doc, **fields, "revision": revision}, now)
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
