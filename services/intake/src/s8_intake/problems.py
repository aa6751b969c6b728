"""Proactive support: declaring and updating problems, telling affected customers before
they write in, linking their tickets as incidents, and the resolution fan-out.

Outreach runs in the background (one leased job per notifying update, a throttled batch
per tick), so a lead's API call returns at once however many customers are affected.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from s8_intake.adapters.customer_store import CustomerStore
from s8_intake.adapters.outbox import OutboxItem, outbox_item
from s8_intake.adapters.problem_store import ProblemStore
from s8_intake.adapters.ticket_store import TicketStore
from s8_intake.domain import problems as domain
from s8_intake.domain.model import Classification, NormalizedMessage
from s8_intake.domain.problems import ProblemRefused
from s8_intake.domain.status import ACTIVE, TransitionRefused
from s8_intake.domain.ticket import TicketState
from s8_intake.service import IntakeService
from s8_shared.contracts import (
    Channel,
    Event,
    Identity,
    Language,
    OutboundMessagePayload,
    OutboundMessageRequested,
    TicketStatus,
    deterministic_id,
    utcnow,
)
from s8_shared.contracts.actions import SetStatus
from s8_shared.contracts.problems import (
    CustomerNotified,
    CustomerNotifiedPayload,
    NoticeKind,
    ProblemChangedPayload,
    ProblemDeclaration,
    ProblemDeclared,
    ProblemResolved,
    ProblemSnapshot,
    ProblemStatus,
    ProblemUpdate,
    ProblemUpdated,
)
from s8_shared.mongo import Document

log = logging.getLogger("s8.intake.problems")
PRODUCER = "s8-intake"
ACTOR = "s8-problems"
MAX_CAS_ATTEMPTS = 8


class ProblemNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Recipient:
    customer_id: str
    incident: TicketState | None = None  # their linked ticket, answered where they wrote


class ProblemDesk:
    def __init__(
        self,
        *,
        problems: ProblemStore,
        intake: IntakeService,
        notices_per_tick: int = 50,
        lease: timedelta = timedelta(seconds=30),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.problems = problems
        self.intake = intake
        self.tickets: TicketStore = intake.tickets
        self.customers: CustomerStore = intake.customers
        self.notices_per_tick = notices_per_tick
        self.lease = lease
        self.clock = clock
        self.owner = uuid.uuid4().hex

    # --- the lead's API -----------------------------------------------------------------
    async def declare(self, decl: ProblemDeclaration) -> tuple[ProblemSnapshot, bool]:
        """The problem and whether this call created it (a repeat returns the same one)."""
        now = self.clock()
        problem_id = decl.problem_id or "P-" + uuid.uuid4().hex[:12]
        # The same declaration again is a repeat; different content under the same id is not.
        key = f"declare:{problem_id}:{deterministic_id(decl.model_dump_json()).hex}"
        for _ in range(2):
            loaded = await self.problems.load(problem_id)
            if loaded is not None:
                if key in loaded[1]:
                    await self.flush(problem_id)
                    return loaded[0], False
                raise ProblemRefused(f"problem {problem_id} exists already")
            problem = domain.declare(decl, problem_id, now)
            event = self._event(ProblemDeclared, problem, decl.notify, decl.declared_by, now)
            if await self.problems.insert(problem, key, [event]):
                await self.flush(problem_id)
                return problem, True
        raise ProblemRefused(f"problem {problem_id} exists already")

    async def update(self, problem_id: str, change: ProblemUpdate) -> ProblemSnapshot:
        key = f"update:{change.update_id or uuid.uuid4().hex}"
        for _ in range(MAX_CAS_ATTEMPTS):
            loaded = await self.problems.load(problem_id)
            if loaded is None:
                raise ProblemNotFound(problem_id)
            problem, applied = loaded
            if key in applied:
                await self.flush(problem_id)
                return problem
            now = self.clock()
            new = domain.update(problem, change, now)
            cls = ProblemResolved if new.status == ProblemStatus.RESOLVED else ProblemUpdated
            event = self._event(cls, new, change.notify, change.updated_by, now)
            if await self.problems.update(new, problem.update_seq, key, [event]):
                await self.flush(problem_id)
                return new
        raise RuntimeError(f"problem {problem_id} kept changing; retry")

    async def get(self, problem_id: str) -> ProblemSnapshot:
        loaded = await self.problems.load(problem_id)
        if loaded is None:
            raise ProblemNotFound(problem_id)
        return loaded[0]

    async def details(self, problem_id: str) -> dict[str, Any]:
        problem = await self.get(problem_id)
        incidents = await self.tickets.incidents_of(problem_id)
        return {
            "problem": problem.model_dump(mode="json"),
            "incidents": [
                {
                    "ticket_id": t.snapshot.ticket_id,
                    "customer_id": t.snapshot.customer_id,
                    "status": t.snapshot.status.value,
                    "created_at": t.snapshot.created_at.isoformat(),
                }
                for t in incidents
            ],
            "notices": await self.problems.contact_counts(problem_id),
            "outreach": [
                {k: v for k, v in job.items() if k not in ("owner",)}
                for job in await self.problems.jobs_of(problem_id)
            ],
        }

    @staticmethod
    def _event(
        cls: type[ProblemDeclared] | type[ProblemUpdated] | type[ProblemResolved],
        problem: ProblemSnapshot,
        notify: bool,
        actor: str,
        now: datetime,
    ) -> Event[Any]:
        type_name = cls.model_fields["type"].default
        return cls(
            event_id=deterministic_id(problem.problem_id, problem.update_seq, type_name),
            occurred_at=now,
            producer=PRODUCER,
            payload=ProblemChangedPayload(
                problem_id=problem.problem_id, problem=problem, notify=notify, actor_id=actor
            ),
        )

    # --- publishing -----------------------------------------------------------------------
    async def flush(self, problem_id: str) -> int:
        """Publishes the problem's outbox; an update that notifies (or resolves) becomes an
        outreach job first, so a crash never loses the notices."""
        items = await self.problems.outbox_items(problem_id)
        for item in items:
            body = json.loads(item.body)
            payload = body.get("payload", {})
            seq = int(payload.get("problem", {}).get("update_seq", 0))
            kind = _NOTICE_OF_TYPE.get(body.get("type", ""))
            if kind is not None and (payload.get("notify") or kind == "resolved"):
                await self.problems.add_job(problem_id, seq, kind, bool(payload.get("notify")))
        await self.intake.publish_items(items)
        if items:
            await self.problems.outbox.remove(problem_id, [i.event_id for i in items])
        return len(items)

    async def sweep(self) -> int:
        """Republishes what a crash left behind: problem outboxes and unsent notices."""
        published = 0
        for problem_id in await self.problems.outbox.pending():
            published += await self.flush(problem_id)
        stale = self.clock() - timedelta(seconds=30)
        for contact in await self.problems.unpublished_contacts(stale):
            await self._publish_contact(contact)
            published += 1
        return published

    # --- outreach -------------------------------------------------------------------------
    async def run_outreach(self) -> int:
        """One throttled batch of the oldest pending outreach job; returns notices sent."""
        now = self.clock()
        job = await self.problems.claim_job(self.owner, now, self.lease)
        if job is None:
            return 0
        problem = await self.get(job["problem_id"])
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
        self.intake.metrics.problem_notices.labels(job["notice"]).inc(sent)
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
        ids, last = domain.next_recipients([first, linked], size)
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
        address = domain.contact_for(Channel(preferred) if preferred else None, identities, last)
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
        subject, text = domain.notice(problem, notice_kind, language)
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
        await self.intake.publish_items([OutboxItem(**item) for item in contact["outbox"]])
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
                await self.intake.act(action)
                solved += 1
            except TransitionRefused as refused:
                log.info(
                    "incident not solved",
                    extra={"ticket_id": state.snapshot.ticket_id, "reason": refused.reason},
                )
        return solved

    # --- intake's questions -----------------------------------------------------------------
    async def problem(self, problem_id: str) -> ProblemSnapshot | None:
        loaded = await self.problems.load(problem_id)
        return loaded[0] if loaded else None

    async def match(
        self, customer_id: str, msg: NormalizedMessage, classification: Classification
    ) -> tuple[ProblemSnapshot, str] | None:
        """The open problem a new ticket is an incident of, and why; None if none fits."""
        open_problems = await self.problems.open_problems()
        if not open_problems:
            return None
        facts = await self.customers.facts(customer_id)
        for problem in sorted(open_problems, key=lambda p: p.declared_at):
            if not domain.affects(problem.segment, facts):
                continue
            why = domain.explains(problem, msg.text, msg.subject, classification.category)
            if why:
                return problem, why
        return None

    async def contacts_of(self, customer_ids: Sequence[str]) -> list[Document]:
        return await self.problems.contacts_of_customers(customer_ids)


_NOTICE_OF_TYPE: dict[str, NoticeKind] = {
    "problem.declared": "declared",
    "problem.updated": "update",
    "problem.resolved": "resolved",
}
