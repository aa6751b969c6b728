"""The ticket status state machine: which changes are allowed, and why not."""

from __future__ import annotations

from s8_shared.contracts import TicketStatus

S = TicketStatus

ALLOWED: dict[TicketStatus, frozenset[TicketStatus]] = {
    S.NEW: frozenset({S.OPEN, S.PENDING, S.ON_HOLD, S.SOLVED}),
    S.OPEN: frozenset({S.PENDING, S.ON_HOLD, S.SOLVED}),
    S.PENDING: frozenset({S.OPEN, S.ON_HOLD, S.SOLVED}),
    S.ON_HOLD: frozenset({S.OPEN, S.PENDING, S.SOLVED}),
    S.SOLVED: frozenset({S.OPEN, S.CLOSED}),
    S.CLOSED: frozenset(),
}
ACTIVE: frozenset[TicketStatus] = frozenset({S.NEW, S.OPEN, S.PENDING, S.ON_HOLD})


class TransitionRefused(ValueError):
    """An action the ticket's state does not allow; `reason` says why, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_transition(current: TicketStatus, target: TicketStatus) -> None:
    if current == target:
        raise TransitionRefused(f"the ticket is already {current.value}")
    if current == S.CLOSED:
        raise TransitionRefused(
            "a closed ticket cannot change; the customer's next message opens a new one"
        )
    if target not in ALLOWED[current]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED[current]))
        raise TransitionRefused(
            f"cannot go from {current.value} to {target.value} (allowed: {allowed})"
        )
