"""Agent actions on a ticket: the ticket's state machine decides (compare-and-set on the
version, once per action id); compensation offers go to the compensation desk, which
keeps its own record per offer."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from s8_intake.domain.actions import apply_action
from s8_intake.domain.problems import link_incident, unlink_incident
from s8_intake.domain.status import TransitionRefused
from s8_intake.domain.ticket import Change, TicketState
from s8_intake.metrics import IntakeMetrics
from s8_intake.ports import Clock, Messages, TicketNotFound, Tickets
from s8_intake.service.publishing import OutboxPublisher, traced
from s8_shared.contracts import MessageInfo, TicketAction, TicketSnapshot, TicketStatus, utcnow
from s8_shared.contracts.actions import LinkProblem, Merge, OfferCompensation, UnlinkProblem
from s8_shared.contracts.problems import ProblemSnapshot

MAX_CAS_ATTEMPTS = 8


class CompensationOffers(Protocol):
    """The compensation desk (`service.compensation.CompensationDesk`)."""

    async def offer(self, action: OfferCompensation, ticket: TicketSnapshot) -> None: ...


class ProblemLookup(Protocol):
    """Known problems by id (`service.problems.KnownProblems`)."""

    async def problem(self, problem_id: str) -> ProblemSnapshot | None: ...


class Actions:
    def __init__(
        self,
        *,
        tickets: Tickets,
        messages: Messages,
        problems: ProblemLookup,
        compensation: CompensationOffers,
        publishing: OutboxPublisher,
        metrics: IntakeMetrics,
        clock: Clock = utcnow,
    ) -> None:
        self.tickets = tickets
        self.messages = messages
        self.problems = problems
        self.compensation = compensation
        self.publishing = publishing
        self.metrics = metrics
        self.clock = clock

    async def act(self, action: TicketAction) -> TicketSnapshot:
        now = self.clock()
        if isinstance(action, OfferCompensation):
            # Decided by the compensation desk (limits, caps, approvals), not the ticket's
            # state machine; it keeps its own record per offer id.
            found = await self.tickets.load(action.ticket_id)
            if found is None:
                raise TicketNotFound(action.ticket_id)
            await self.compensation.offer(action, found[0].snapshot)
            return found[0].snapshot
        for _ in range(MAX_CAS_ATTEMPTS):
            loaded = await self.tickets.load(action.ticket_id)
            if loaded is None:
                raise TicketNotFound(action.ticket_id)
            state, applied = loaded
            key = f"action:{action.action_id}"
            if key in applied:
                await self.publishing.flush(action.ticket_id)
                return state.snapshot
            if isinstance(action, Merge):
                await self._check_merge_target(action)
            change = await self._change_for(state, action, now)
            if await self.tickets.update(
                change.state, state.snapshot.version, key, traced(change.events)
            ):
                for event in change.events:
                    message = getattr(event.payload, "message", None)
                    if isinstance(message, MessageInfo):
                        await self.messages.add_agent_message(action.ticket_id, message)
                self.metrics.actions.labels(action.kind).inc()
                await self.publishing.flush(action.ticket_id)
                return change.state.snapshot
        raise RuntimeError(f"ticket {action.ticket_id} kept changing; retry the action")

    def refused(self, action: TicketAction) -> None:
        """Counts an action the state machine refused."""
        self.metrics.refused.labels(action.kind).inc()

    async def _change_for(self, state: TicketState, action: TicketAction, now: datetime) -> Change:
        if isinstance(action, LinkProblem):
            problem = await self.problems.problem(action.problem_id)
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
