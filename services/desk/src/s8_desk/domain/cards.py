"""A ticket's card in the desk's read model, as pure functions of the events that shape it:
the ticket's snapshot, who holds it (routing) and where it stands against its SLA clocks.

Views sort by `sla_order`, one string that orders breached before warned before running
before paused before none, then by the soonest due moment: one sort key, so one keyset
page per request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from s8_shared.contracts import AssignmentPayload, SlaPayload, TicketSnapshot, TicketStatus
from s8_shared.contracts.desk import DeskClock, RoutingExplained, SlaStanding

OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.ON_HOLD)
RANK = {
    SlaStanding.BREACHED: 0,
    SlaStanding.WARNED: 1,
    SlaStanding.RUNNING: 2,
    SlaStanding.PAUSED: 3,
    SlaStanding.NONE: 4,
}
CLOCK_STATES = {
    "sla.clock_started": "running",
    "sla.resumed": "running",
    "sla.paused": "paused",
    "sla.warning": "warned",
    "sla.breached": "breached",
    "sla.met": "met",
    "sla.cancelled": "cancelled",
}
CLOSED_CLOCKS = ("met", "cancelled")
NO_DUE = "9999-12-31T23:59:59+00:00"
ROUTING_KEPT = 20  # decisions kept per ticket (the latest)
HOLDING = ("ticket.assigned", "ticket.reassigned", "ticket.escalated")


def snapshot_fields(snap: TicketSnapshot) -> dict[str, Any]:
    """The card's fields a ticket event sets (the routing and SLA fields are left alone)."""
    return {
        "customer_id": snap.customer_id,
        "subject": snap.subject,
        "customer_name": snap.customer_name,
        "status": snap.status.value,
        "open": snap.status in OPEN_STATUSES,
        "priority": snap.priority.value,
        "channel": snap.channel.value,
        "team": snap.team,
        "category": snap.category,
        "contact": snap.contact,
        "problem_id": snap.problem_id,
        "last_customer_message_at": snap.last_customer_message_at,
        "created_at": snap.created_at,
        "updated_at": snap.updated_at,
        "version": snap.version,
    }


def clock_of(event_type: str, clock: SlaPayload, at: datetime) -> DeskClock:
    return DeskClock(
        clock_id=clock.clock_id,
        target=clock.target,
        state=CLOCK_STATES[event_type],
        due_at=clock.due_at,
        remaining_business_seconds=clock.remaining_business_seconds,
        updated_at=at,
    )


def standing(clocks: Iterable[DeskClock]) -> tuple[SlaStanding, datetime | None]:
    """The worst open clock's standing, and the soonest due moment of those not paused."""
    open_clocks = [c for c in clocks if c.state not in CLOSED_CLOCKS]
    states = {SlaStanding(c.state) for c in open_clocks}
    worst = min(states, key=RANK.__getitem__, default=SlaStanding.NONE)
    dues = [c.due_at for c in open_clocks if c.due_at and c.state != "paused"]
    return worst, min(dues, default=None)


def sla_order(worst: SlaStanding, due_at: datetime | None) -> str:
    return f"{RANK[worst]}|{due_at.isoformat() if due_at else NO_DUE}"


def sla_fields(clocks: Mapping[str, DeskClock]) -> dict[str, Any]:
    """The card's SLA fields after its clocks changed."""
    worst, due_at = standing(clocks.values())
    return {"sla": worst.value, "sla_due_at": due_at, "sla_order": sla_order(worst, due_at)}


def holder_fields(event_type: str, decision: AssignmentPayload) -> dict[str, Any]:
    """Who holds the ticket after a routing decision (queued and released: nobody)."""
    holds = event_type in HOLDING and decision.agent_id is not None
    return {
        "agent_id": decision.agent_id if holds else None,
        "queued": event_type == "ticket.queued" or (event_type == "ticket.escalated" and not holds),
        "offer_expires_at": decision.offer_expires_at if holds else None,
    }


def explained(event_type: str, decision: AssignmentPayload, at: datetime) -> RoutingExplained:
    return RoutingExplained(
        decision=event_type,
        agent_id=decision.agent_id,
        previous_agent_id=decision.previous_agent_id,
        reason=decision.reason,
        eligible=decision.eligible,
        rejected=decision.rejected,
        at=at,
    )
