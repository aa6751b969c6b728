"""The router's record of one ticket as a state machine: the states it can be in, the moves
allowed between them, and the decision it last announced.

Every state change goes through `advance` (or `check_move` for a conditional update that
accepts several current states), so a move the table does not allow is refused with
`IllegalTransition` before anything is written. The state values are the strings stored in
the routing records, unchanged, so records already stored still load."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import TypedDict

from s8_router.domain.model import TicketToRoute


class RoutingState(StrEnum):
    NEW = "new"  # waiting for a decision
    QUEUED = "queued"  # nobody could take it: waits for capacity
    OFFERED = "offered"  # an agent has it, to accept within the acceptance timeout
    ASSIGNED = "assigned"  # an agent holds it
    SOLVED = "solved"  # released; a reopened ticket is routed again
    CLOSED = "closed"  # released for good (closed or merged away)


NEW = RoutingState.NEW
QUEUED = RoutingState.QUEUED
OFFERED = RoutingState.OFFERED
ASSIGNED = RoutingState.ASSIGNED
SOLVED = RoutingState.SOLVED
CLOSED = RoutingState.CLOSED
OPEN_STATES: tuple[RoutingState, ...] = (NEW, QUEUED, OFFERED, ASSIGNED)
HELD_STATES: tuple[RoutingState, ...] = (OFFERED, ASSIGNED)
DECIDING_STATES: tuple[RoutingState, ...] = (NEW, QUEUED)  # where an assignment starts from

# current state -> the states it may move to. NEW -> NEW is routing again (a transfer or an
# escalation releases whatever state the ticket is in, a ticket still waiting included).
ALLOWED: Mapping[RoutingState, frozenset[RoutingState]] = {
    NEW: frozenset({NEW, QUEUED, OFFERED, ASSIGNED, SOLVED, CLOSED}),
    QUEUED: frozenset({NEW, OFFERED, ASSIGNED, SOLVED, CLOSED}),
    OFFERED: frozenset({NEW, ASSIGNED, SOLVED, CLOSED}),
    ASSIGNED: frozenset({NEW, SOLVED, CLOSED}),
    SOLVED: frozenset({NEW}),  # reopened
    CLOSED: frozenset(),
}


class IllegalTransition(ValueError):
    """A move the routing state machine does not allow (a programming error, not data)."""

    def __init__(self, current: RoutingState, to: RoutingState) -> None:
        super().__init__(f"a routing record cannot move from {current.value} to {to.value}")
        self.current, self.to = current, to


def advance(current: RoutingState, to: RoutingState) -> RoutingState:
    """`to`, if the table allows moving there from `current`; else IllegalTransition."""
    if to not in ALLOWED[current]:
        raise IllegalTransition(current, to)
    return to


def check_move(from_states: Iterable[RoutingState], to: RoutingState) -> tuple[RoutingState, ...]:
    """The states of a conditional update (move to `to` if now in one of them), each checked
    against the table: an update that could make an illegal move is never sent."""
    states = tuple(from_states)
    for state in states:
        advance(state, to)
    return states


class DecisionKind(StrEnum):
    """What an announced decision is; the values are the assignment event types."""

    ASSIGNED = "ticket.assigned"
    QUEUED = "ticket.queued"
    REASSIGNED = "ticket.reassigned"
    ESCALATED = "ticket.escalated"
    UNASSIGNED = "ticket.unassigned"


class Changes(TypedDict, total=False):
    """Fields a move writes besides the state (absent: left as they are)."""

    agent_id: str | None
    previous_agent_id: str | None
    assigned_at: datetime
    queued_at: datetime
    offer_expires_at: datetime | None
    answered: bool
    reason: str
    eligible: tuple[str, ...]
    rejected: Mapping[str, str]
    decision: DecisionKind


@dataclass(frozen=True)
class RoutingRecord:
    ticket_id: str
    state: RoutingState
    customer_id: str
    route: TicketToRoute | None  # None only for a record no snapshot ever filled
    version: int = 0  # of the latest snapshot applied (an older one never overwrites)
    agent_id: str | None = None
    previous_agent_id: str | None = None
    seq: int = 0  # decisions taken; a decision's event id derives from it
    announced_seq: int | None = None
    announce_pending: bool = False  # decided but not yet published (the reconciler finishes)
    answered: bool = False  # an agent replied publicly since it was assigned
    excluded: frozenset[str] = frozenset()  # agents never offered it again
    queued_at: datetime | None = None
    assigned_at: datetime | None = None
    offer_expires_at: datetime | None = None
    decision: DecisionKind | None = None
    reason: str = ""
    eligible: tuple[str, ...] = ()
    rejected: Mapping[str, str] = field(default_factory=dict)

    def decision_holds(self) -> bool:
        """The stored decision still describes the ticket: its agent still holds it, or it
        still waits in the queue (not solved, transferred or decided again since)."""
        if self.agent_id is not None:
            return self.state in HELD_STATES
        return self.state is QUEUED

    @property
    def routed(self) -> TicketToRoute:
        if self.route is None:
            raise LookupError(f"routing record {self.ticket_id} has no ticket to route")
        return self.route

    def moved(self, to: RoutingState, changes: Changes) -> RoutingRecord:
        """This record after moving to `to` with `changes` (IllegalTransition if not allowed)."""
        return replace(self, state=advance(self.state, to), **changes)
