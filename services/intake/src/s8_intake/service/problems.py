"""Known problems: a lead declares, updates and resolves them (each change stored with its
outbox; a notifying change becomes an outreach job before it is published, see
`service.outreach`), and intake asks which open problem a new ticket is an incident of.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from s8_intake.adapters.customer_store import customer_facts
from s8_intake.domain import problems as domain
from s8_intake.domain.first_answer import IncidentMatch
from s8_intake.domain.model import Classification, NormalizedMessage
from s8_intake.domain.problems import ProblemRefused
from s8_intake.ports import Clock, Incidents, Problems
from s8_intake.service.publishing import OutboxPublisher
from s8_shared.contracts import Event, deterministic_id, utcnow
from s8_shared.contracts.problems import (
    PROBLEM_EVENTS,
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
from s8_shared.pagination import PageRequest

log = logging.getLogger("s8.intake.problems")
PRODUCER = "s8-intake"
MAX_CAS_ATTEMPTS = 8


class KnownProblems:
    """What accepting messages, agent actions and the 360 view ask about problems."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems

    async def problem(self, problem_id: str) -> ProblemSnapshot | None:
        loaded = await self.problems.load(problem_id)
        return loaded[0] if loaded else None

    async def match(
        self, customer: Document, msg: NormalizedMessage, classification: Classification
    ) -> IncidentMatch | None:
        """The open problem a new ticket is an incident of, and why; None if none fits."""
        open_problems = await self.problems.open_problems()
        if not open_problems:
            return None
        facts = customer_facts(customer)
        for problem in sorted(open_problems, key=lambda p: p.declared_at):
            if not domain.affects(problem.segment, facts):
                continue
            why = domain.explains(problem, msg.text, msg.subject, classification.category)
            if why:
                return IncidentMatch(problem, why)
        return None

    async def contacts_of(self, customer_ids: Sequence[str]) -> list[Document]:
        return await self.problems.contacts_of_customers(customer_ids)


class ProblemNotFound(LookupError):
    pass


class ProblemDesk:
    def __init__(
        self,
        *,
        problems: Problems,
        tickets: Incidents,
        publishing: OutboxPublisher,
        clock: Clock = utcnow,
    ) -> None:
        self.problems = problems
        self.tickets = tickets
        self.publishing = publishing
        self.clock = clock

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

    async def page(
        self, status: ProblemStatus | None, page: PageRequest
    ) -> tuple[list[ProblemSnapshot], str | None]:
        return await self.problems.page(status, page)

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
            match PROBLEM_EVENTS.decode(item.body):
                case ProblemDeclared(payload=changed) if changed.notify:
                    await self._add_job(changed, "declared")
                case ProblemUpdated(payload=changed) if changed.notify:
                    await self._add_job(changed, "update")
                case ProblemResolved(payload=changed):
                    await self._add_job(changed, "resolved")
                case _:
                    pass  # nobody to tell
        await self.publishing.publish_items(items)
        if items:
            await self.problems.remove_from_outbox(problem_id, [i.event_id for i in items])
        return len(items)

    async def _add_job(self, changed: ProblemChangedPayload, notice: NoticeKind) -> None:
        problem = changed.problem
        await self.problems.add_job(problem.problem_id, problem.update_seq, notice, changed.notify)

    async def sweep(self) -> int:
        """Republishes problem outboxes a crash left behind (unsent notices: the outreach)."""
        published = 0
        for problem_id in await self.problems.with_outbox():
            published += await self.flush(problem_id)
        return published
