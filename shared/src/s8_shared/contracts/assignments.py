"""Routing decisions on `support.assignments.v1`, keyed by ticket id. Every decision says
which rule decided, who was eligible and why the others were not."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from s8_shared.contracts.common import Priority
from s8_shared.contracts.envelope import Contract, Event, EventFamily


class AssignmentPayload(Contract):
    ticket_id: str
    agent_id: str | None = Field(default=None, description="The agent now responsible, if any.")
    previous_agent_id: str | None = None
    channel_kind: str = Field(description="chat, email, phone or on_site: the capacity it uses.")
    priority: Priority
    tier: str | None = Field(
        default=None, description="Tier the ticket needs now (L1, L2, L3, field)."
    )
    reason: str = Field(
        description="Reason code: previous_agent, least_loaded, longest_idle, round_robin, "
        "no_eligible_agent, agent_offline, acceptance_timeout, declined, sla_warning, sla_breach, "
        "transfer, released."
    )
    eligible: list[str] = Field(default_factory=list, description="Agents who could take it.")
    rejected: dict[str, str] = Field(
        default_factory=dict, description="Agent → why they could not (offline, full, skill, ...)."
    )
    queue_position: int | None = None
    offer_expires_at: datetime | None = Field(
        default=None,
        description="Offered, not assigned: the agent must accept by then or it moves on.",
    )
    waited_seconds: float | None = Field(
        default=None, description="Time from ticket event to this decision."
    )


class TicketAssigned(Event[AssignmentPayload]):
    type: Literal["ticket.assigned"] = "ticket.assigned"


class TicketQueued(Event[AssignmentPayload]):
    type: Literal["ticket.queued"] = "ticket.queued"


class TicketReassigned(Event[AssignmentPayload]):
    type: Literal["ticket.reassigned"] = "ticket.reassigned"


class TicketEscalated(Event[AssignmentPayload]):
    type: Literal["ticket.escalated"] = "ticket.escalated"


class TicketUnassigned(Event[AssignmentPayload]):
    type: Literal["ticket.unassigned"] = "ticket.unassigned"


AssignmentEvent = (
    TicketAssigned | TicketQueued | TicketReassigned | TicketEscalated | TicketUnassigned
)
ASSIGNMENT_EVENTS = EventFamily(
    "assignment events",
    (TicketAssigned, TicketQueued, TicketReassigned, TicketEscalated, TicketUnassigned),
)
