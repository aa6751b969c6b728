"""Which agent hears what, live: pure functions from an event (and who held the ticket) to
the notices it causes. The store gives each its place in the stream (`seq`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from s8_desk.domain.cards import HOLDING
from s8_shared.contracts import AssignmentPayload, Author, MessageInfo, SlaPayload
from s8_shared.contracts.desk import NoticeKind


@dataclass(frozen=True)
class Due:
    """A notice to store: for `agent_id`, about `ticket_id`."""

    agent_id: str
    kind: NoticeKind
    ticket_id: str
    at: datetime
    deadline: datetime | None = None
    detail: str | None = None


def on_decision(
    event_type: str, decision: AssignmentPayload, at: datetime, held_by: str | None
) -> list[Due]:
    """Assigned or offered to the new holder; transferred away from the one before."""
    due: list[Due] = []
    holder = decision.agent_id if event_type in HOLDING else None
    if holder:
        kind: NoticeKind = "offered" if decision.offer_expires_at else "assigned"
        due.append(
            Due(holder, kind, decision.ticket_id, at, decision.offer_expires_at, decision.reason)
        )
    before = decision.previous_agent_id or held_by
    if before and before != holder:
        due.append(Due(before, "transferred_away", decision.ticket_id, at, None, decision.reason))
    return due


def on_message(ticket_id: str, message: MessageInfo, held_by: str | None) -> list[Due]:
    """The customer answered on a ticket someone holds."""
    if held_by is None or message.author is not Author.CUSTOMER:
        return []
    return [Due(held_by, "customer_answered", ticket_id, message.sent_at)]


def on_sla(event_type: str, clock: SlaPayload, at: datetime, held_by: str | None) -> list[Due]:
    """A warning or a breach on a ticket someone holds."""
    kinds: dict[str, NoticeKind] = {"sla.warning": "sla_warning", "sla.breached": "sla_breached"}
    if held_by is None or event_type not in kinds:
        return []
    return [Due(held_by, kinds[event_type], clock.ticket_id, at, clock.due_at, clock.target)]


def on_approval_requested(
    ticket_id: str, offer_id: str, at: datetime, leads: Iterable[str]
) -> list[Due]:
    """A compensation above the agent's limits: every lead who may approve it hears."""
    return [Due(lead, "approval_needed", ticket_id, at, None, offer_id) for lead in sorted(leads)]
