"""Quality control: an unhappy survey answer becomes a follow-up ticket for a senior
agent, linked to the ticket it was about (once per survey)."""

from __future__ import annotations

from dataclasses import replace

from s8_intake.domain.model import NormalizedMessage
from s8_intake.domain.ticket import PRIORITY_RANK, CustomerView, open_ticket, ticket_id_for
from s8_intake.metrics import IntakeMetrics
from s8_intake.ports import Clock, Tickets
from s8_intake.service.accepting import Understanding
from s8_intake.service.publishing import OutboxPublisher, traced
from s8_shared.contracts import Channel, CustomerTier, Priority, utcnow
from s8_shared.contracts.surveys import SurveyFollowupPayload
from s8_shared.nlp.sentiment import Sentiment

NEUTRAL = Sentiment(score=0.0, negative=False)


class FollowUps:
    def __init__(
        self,
        *,
        tickets: Tickets,
        understanding: Understanding,
        publishing: OutboxPublisher,
        metrics: IntakeMetrics,
        clock: Clock = utcnow,
    ) -> None:
        self.tickets = tickets
        self.understanding = understanding
        self.publishing = publishing
        self.metrics = metrics
        self.clock = clock

    async def open_followup(self, payload: SurveyFollowupPayload) -> str:
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
        tier = state.snapshot.customer_tier if state else CustomerTier.STANDARD
        base = self.understanding.classify(msg, tier, NEUTRAL)
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
        customer = CustomerView(payload.customer_id, tier)
        change = open_ticket(
            ticket_id, customer, msg, classification, NEUTRAL, now, payload.ticket_id
        )
        events = traced(change.events)
        if await self.tickets.insert(change.state, msg.dedup_key, events):
            self.metrics.count_new(change.state.snapshot)
            await self.publishing.flush_new(ticket_id, events)
        else:
            await self.publishing.flush(ticket_id)  # a redelivery: publish what is left
        return ticket_id
