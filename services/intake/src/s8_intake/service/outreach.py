"""Proactive support: telling affected customers about a known problem before they write
in, answering linked incidents where their customer wrote, and solving the incidents when
the problem is resolved.

Outreach runs in the background (one leased job per notifying update, a throttled batch
per tick), so a lead's API call returns at once however many customers are affected.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from s8_intake.adapters.outbox import OutboxItem, outbox_item
from s8_intake.domain import outreach as notices
from s8_intake.domain.status import ACTIVE, TransitionRefused
from s8_intake.domain.ticket import TicketState
from s8_intake.metrics import IntakeMetrics
from s8_intake.ports import Audience, Clock, Incidents, Outreaches
from s8_intake.service.problems import ProblemNotFound
from s8_intake.service.publishing import OutboxPublisher
from s8_shared.contracts import (
    Channel,
    Identity,
    Language,
    OutboundMessagePayload,
    OutboundMessageRequested,
    TicketAction,
    TicketSnapshot,
    TicketStatus,
    deterministic_id,
    utcnow,
)
from s8_shared.contracts.actions import SetStatus
from s8_shared.contracts.problems import (
    CustomerNotified,
    CustomerNotifiedPayload,
    NoticeKind,
    ProblemSnapshot,
    ProblemStatus,
)
from s8_shared.mongo import Document

log = logging.getLogger("s8.intake.problems")
PRODUCER = "s8-intake"
ACTOR = "s8-problems"


class TicketActions(Protocol):
    """Agent actions (`service.actions.Actions`): resolving a problem solves its incidents."""

    async def act(self, action: TicketAction) -> TicketSnapshot: ...


@dataclass(frozen=True)
class Recipient:
    customer_id: str
    incident: TicketState | None = None  # their linked ticket, answered where they wrote


class Outreach:
    def __init__(
        self,
        *,
        problems: Outreaches,
        tickets: Incidents,
        customers: Audience,
        actions: TicketActions,
        publishing: OutboxPublisher,
        metrics: IntakeMetrics,
        notices_per_tick: int = 50,
        lease: timedelta = timedelta(seconds=30),
        clock: Clock = utcnow,
    ) -> None:
        self.problems = problems
        self.tickets = tickets
        self.customers = customers
        self.actions = actions
        self.publishing = publishing
        self.metrics = metrics
        self.notices_per_tick = notices_per_tick
        self.lease = lease
        self.clock = clock
        self.owner = uuid.uuid4().hex

    async def sweep(self) -> int:
        """Republishes notices a crash left unsent."""
        published = 0
        stale = self.clock() - timedelta(seconds=30)
        for contact in await self.problems.unpublished_contacts(stale):
            await self._publish_contact(contact)
            published += 1
        return published

    async def _problem(self, problem_id: str) -> ProblemSnapshot:
        loaded = await self.problems.load(problem_id)
        if loaded is None:
            raise ProblemNotFound(problem_id)
        return loaded[0]

    async def run_outreach(self) -> int:
        """One throttled batch of the oldest pending outreach job; returns notices sent."""
        now = self.clock()
        job = await self.problems.claim_job(self.owner, now, self.lease)
        if job is None:
            return 0
        problem = await self._problem(job["problem_id"])
        if job["notice"] == "resolved" and not job.get("incidents_solved"):
            await self._solve_incidents(problem)
            await self.problems.mark_incidents_solved(job["_id"])
        superseded = problem.status == ProblemStatus.RESOLVED and job["notice"] != "resolved"
        if not job.get("notify", True) or superseded:
            # Nothing to send, or the problem was resolved before this notice went out:
            # the resolution notice tells them everything.
            await self.problems.advance_job(job["_id"], self.owner, job["cursor"], 0, 0, True)
            return 0
        batch, last = await self._next_batch(problem, job["notice"], job["cursor"])
        without_incident = [r.customer_id for r in batch if r.incident is None]
        profiles = await self.customers.profiles(without_incident)
        identities = await self.customers.identities_by_customer(without_incident)
        sent = unreachable = 0
        for recipient in batch:
            address, language = await self._address(
                recipient,
                profiles.get(recipient.customer_id, {}),
                identities.get(recipient.customer_id, []),
            )
            outcome = await self._notify(problem, job, recipient, address, language, now)
            sent += outcome == "sent"
            unreachable += outcome == "unreachable"
        cursor = batch[-1].customer_id if batch else job["cursor"]
        done = last
        await self.problems.advance_job(job["_id"], self.owner, cursor, sent, unreachable, done)
        self.metrics.problem_notices.labels(job["notice"]).inc(sent)
        return sent

    async def _next_batch(
        self, problem: ProblemSnapshot, notice: NoticeKind, cursor: str
    ) -> tuple[list[Recipient], bool]:
        """The next customers to tell, in id order after `cursor`, and whether they are the
        last. Declared/updated: the affected segment plus anyone with a linked incident.
        Resolved: everyone told about it before plus anyone with a linked incident.

        Each source is read in id order from `cursor` and only as far as one batch needs,
        so a job reads each customer about once however many it reaches."""
        size = self.notices_per_tick
        pid = problem.problem_id
        first = (
            await self.problems.notified_customers(pid, cursor, size)
            if notice == "resolved"
            else await self.customers.segment_page(problem.segment, cursor, size)
        )
        linked = await self.tickets.incident_customers(pid, cursor, size)
        ids, last = notices.next_recipients([first, linked], size)
        incidents = await self.tickets.latest_incidents(pid, ids) if ids else {}
        return [Recipient(c, incidents.get(c)) for c in ids], last

    async def _address(
        self, recipient: Recipient, profile: Document, identities: list[Identity]
    ) -> tuple[tuple[Channel, str] | None, Language]:
        """Where and in which language: a linked customer on their incident's channel,
        anyone else on their preferred, last-used or best-known channel."""
        incident = recipient.incident
        if incident is not None and incident.reply_channel and incident.reply_address:
            return (incident.reply_channel, incident.reply_address), incident.snapshot.language
        if incident is not None:
            # An incident with no address to answer on: reach them like anyone else.
            profile = await self.customers.get(recipient.customer_id) or {}
            identities = await self.customers.identities_of([recipient.customer_id])
        last = await self.tickets.last_contact([recipient.customer_id])
        preferred = profile.get("preferred_channel")
        address = notices.contact_for(Channel(preferred) if preferred else None, identities, last)
        language = Language(profile["language"]) if profile.get("language") else Language.VI
        return address, language

    async def _notify(
        self,
        problem: ProblemSnapshot,
        job: Document,
        recipient: Recipient,
        address: tuple[Channel, str] | None,
        language: Language,
        now: datetime,
    ) -> str:
        notice_kind: NoticeKind = job["notice"]
        contact_id = f"{problem.problem_id}:{job['update_seq']}:{recipient.customer_id}"
        incident = recipient.incident
        if address is None:
            return "unreachable"
        channel, to = address
        subject, text = notices.notice(problem, notice_kind, language)
        outbound_id = deterministic_id("proactive", contact_id).hex
        ticket_id = incident.snapshot.ticket_id if incident else None
        outbound = OutboundMessageRequested(
            event_id=deterministic_id("outbound", outbound_id),
            occurred_at=now,
            producer=PRODUCER,
            payload=OutboundMessagePayload(
                outbound_id=outbound_id,
                ticket_id=ticket_id,
                customer_id=recipient.customer_id,
                channel=channel,
                to=to,
                language=language,
                kind="incident_status" if incident else "proactive_notice",
                subject=subject,
                text=text,
                problem_id=problem.problem_id,
            ),
        )
        notified = CustomerNotified(
            event_id=deterministic_id("notified", contact_id),
            occurred_at=now,
            producer=PRODUCER,
            payload=CustomerNotifiedPayload(
                problem_id=problem.problem_id,
                update_seq=job["update_seq"],
                notice=notice_kind,
                customer_id=recipient.customer_id,
                outbound_id=outbound_id,
                channel=channel,
                language=language,
                ticket_id=ticket_id,
                proactive=incident is None,
            ),
        )
        contact = {
            "_id": contact_id,
            "problem_id": problem.problem_id,
            "update_seq": job["update_seq"],
            "notice": notice_kind,
            "customer_id": recipient.customer_id,
            "ticket_id": ticket_id,
            "channel": channel.value,
            "to": to,
            "language": language.value,
            "proactive": incident is None,
            "outbound_id": outbound_id,
            "at": now,
            "outbox": [outbox_item(outbound).__dict__, outbox_item(notified).__dict__],
        }
        if not await self.problems.claim_contact(contact):
            return "already_sent"
        await self._publish_contact(contact)
        return "sent"

    async def _publish_contact(self, contact: Document) -> None:
        await self.publishing.publish_items([OutboxItem(**item) for item in contact["outbox"]])
        await self.problems.mark_published(contact["_id"])

    async def _solve_incidents(self, problem: ProblemSnapshot) -> int:
        """Every linked incident still open is solved once (a deterministic action id)."""
        solved = 0
        for state in await self.tickets.incidents_of(problem.problem_id):
            if state.snapshot.status not in ACTIVE:
                continue
            action = SetStatus(
                action_id=f"problem:{problem.problem_id}:solve:{state.snapshot.ticket_id}",
                ticket_id=state.snapshot.ticket_id,
                actor_id=ACTOR,
                status=TicketStatus.SOLVED,
                reason="problem_resolved",
            )
            try:
                await self.actions.act(action)
                solved += 1
            except TransitionRefused as refused:
                log.info(
                    "incident not solved",
                    extra={"ticket_id": state.snapshot.ticket_id, "reason": refused.reason},
                )
        return solved
