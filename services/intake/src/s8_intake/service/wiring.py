"""The four services that handle customers' messages and agents' actions, wired to one set of
ports: `app.py` gives them the Mongo adapters, the fast tests in-memory fakes (the shape of
cosmicpython's bootstrap), so both build them the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from s8_intake.metrics import IntakeMetrics
from s8_intake.ports import Clock, Customers, Messages, Tickets
from s8_intake.service.accepting import Accepting, ProblemMatcher, Understanding
from s8_intake.service.actions import Actions, CompensationOffers, ProblemLookup
from s8_intake.service.customers import ContactHistory, CustomerDesk
from s8_intake.service.followups import FollowUps
from s8_intake.service.publishing import OutboxPublisher
from s8_shared.contracts import utcnow


class KnownProblemsPort(ProblemMatcher, ProblemLookup, ContactHistory, Protocol):
    """The known problems as all four services read them."""


@dataclass(frozen=True)
class MessageServices:
    accepting: Accepting
    actions: Actions
    followups: FollowUps
    customers: CustomerDesk


def message_services(
    *,
    tickets: Tickets,
    messages: Messages,
    customers: Customers,
    understanding: Understanding,
    problems: KnownProblemsPort,
    compensation: CompensationOffers,
    publishing: OutboxPublisher,
    metrics: IntakeMetrics,
    own_addresses: frozenset[str] = frozenset(),
    clock: Clock = utcnow,
) -> MessageServices:
    return MessageServices(
        accepting=Accepting(
            tickets=tickets,
            messages=messages,
            customers=customers,
            understanding=understanding,
            problems=problems,
            publishing=publishing,
            metrics=metrics,
            own_addresses=own_addresses,
            clock=clock,
        ),
        actions=Actions(
            tickets=tickets,
            messages=messages,
            problems=problems,
            compensation=compensation,
            publishing=publishing,
            metrics=metrics,
            clock=clock,
        ),
        followups=FollowUps(
            tickets=tickets,
            understanding=understanding,
            publishing=publishing,
            metrics=metrics,
            clock=clock,
        ),
        customers=CustomerDesk(
            customers=customers, tickets=tickets, contacts=problems, clock=clock
        ),
    )
