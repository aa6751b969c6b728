"""Compensation agents grant within limits (empowerment), and leads' approvals above them.

Events go on `support.tickets.v1` keyed by ticket id (they are about one ticket) but are
not ticket snapshot events: consumers that only want tickets skip them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from s8_shared.contracts.envelope import Contract, Event, EventFamily

CompensationKind = Literal["refund", "voucher"]
OfferStatus = Literal["granted", "pending_approval", "approved", "rejected"]


class AuditEntry(Contract):
    at: datetime
    actor_id: str
    action: str = Field(examples=["offered", "granted", "approval_requested", "approved"])
    detail: str | None = None


class CompensationOffer(Contract):
    offer_id: str = Field(description="The action id of the `offer_compensation` action.")
    ticket_id: str
    customer_id: str
    agent_id: str
    agent_tier: str | None = None
    kind: CompensationKind
    amount: int = Field(gt=0, description="In the currency's minor-free unit (VND has none).")
    currency: Literal["VND"] = "VND"
    reason: str | None = None
    status: OfferStatus
    status_reason: str = Field(
        description="Why: within the limit, above the per-offer limit, period cap reached…"
    )
    period: str = Field(description="The agent's capped period, e.g. `2026-11-25` (local day).")
    decided_by: str | None = None
    offered_at: datetime
    decided_at: datetime | None = None
    audit: list[AuditEntry] = Field(default_factory=list)


class ApprovalDecision(BaseModel):
    """`POST /v1/approvals/{offer_id}` by a lead."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approver_id: str = Field(
        default="",
        max_length=128,
        description="Left out, or the caller: s8 records who acts from the token.",
    )
    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=500)


class CompensationPayload(Contract):
    ticket_id: str
    offer: CompensationOffer


class CompensationGranted(Event[CompensationPayload]):
    """Granted at once (within the agent's limits) or approved by a lead."""

    type: Literal["compensation.granted"] = "compensation.granted"


class CompensationApprovalRequested(Event[CompensationPayload]):
    type: Literal["compensation.approval_requested"] = "compensation.approval_requested"


class CompensationRejected(Event[CompensationPayload]):
    type: Literal["compensation.rejected"] = "compensation.rejected"


COMPENSATION_EVENTS = EventFamily(
    "compensation events",
    (CompensationGranted, CompensationApprovalRequested, CompensationRejected),
)
