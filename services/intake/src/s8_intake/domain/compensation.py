"""Compensation within limits (empowerment): the limits as data, the decision for one
offer, a lead's approval, the audit trail and the events.

Pure: `decide` says what an offer's outcome is given what the agent already used in the
period. Several intake replicas can decide at once, so the store enforces the cap with one
conditional update; when that refuses, the caller decides again with the fresh total.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from s8_shared.contracts import deterministic_id
from s8_shared.contracts.actions import OfferCompensation
from s8_shared.contracts.agents import AgentTier
from s8_shared.contracts.compensation import (
    ApprovalDecision,
    AuditEntry,
    CompensationApprovalRequested,
    CompensationGranted,
    CompensationOffer,
    CompensationPayload,
    CompensationRejected,
)
from s8_shared.contracts.envelope import Event

PRODUCER = "s8-intake"
SYSTEM_ACTOR = "s8-intake"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TierLimit(_Model):
    per_offer: int = Field(gt=0, description="Largest single offer granted without approval.")
    per_period: int = Field(gt=0, description="Cap on the agent's total in one period.")

    @model_validator(mode="after")
    def _offer_within_cap(self) -> TierLimit:
        if self.per_offer > self.per_period:
            raise ValueError("per_offer cannot exceed per_period")
        return self


class LeadLimit(_Model):
    approve_up_to: int = Field(gt=0, description="Largest single offer a lead may approve.")


class CompensationLimits(_Model):
    version: int = Field(ge=1)
    currency: Literal["VND"] = "VND"
    period: Literal["day"] = "day"
    time_zone: str = "Asia/Ho_Chi_Minh"
    tiers: dict[AgentTier, TierLimit]
    leads: LeadLimit

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    def period_of(self, at: datetime) -> str:
        """The local day `at` falls in, e.g. `2026-11-25` (23:30 UTC is already the next
        day in Hà Nội)."""
        return at.astimezone(ZoneInfo(self.time_zone)).date().isoformat()

    def cap_of(self, tier: str) -> int | None:
        limit = self.tiers.get(tier)  # type: ignore[call-overload]
        return limit.per_period if limit else None


@dataclass(frozen=True)
class Agent:
    """What intake knows of an agent from `support.agents.v1`."""

    agent_id: str
    tier: AgentTier
    lead: bool = False


@dataclass(frozen=True)
class Decision:
    status: Literal["granted", "pending_approval"]
    reason: str
    cap: int | None = None  # the period cap a grant must stay within


def vnd(amount: int) -> str:
    return f"{amount:,} VND"


def decide(limits: CompensationLimits, agent: Agent | None, amount: int, used: int) -> Decision:
    """Granted at once when within the tier's per-offer limit and the period total
    (`used` + `amount`) stays within the cap; otherwise pending a lead's approval."""
    if agent is None:
        return Decision("pending_approval", "unknown agent: every offer needs a lead's approval")
    limit = limits.tiers.get(agent.tier)
    if limit is None:
        return Decision("pending_approval", f"no limits for tier {agent.tier}: needs approval")
    if amount > limit.per_offer:
        return Decision(
            "pending_approval",
            f"above the per-offer limit of tier {agent.tier}: "
            f"{vnd(amount)} > {vnd(limit.per_offer)}",
            limit.per_period,
        )
    if used + amount > limit.per_period:
        return Decision(
            "pending_approval",
            f"would exceed the period cap: used {vnd(used)} of {vnd(limit.per_period)}, "
            f"offer {vnd(amount)}",
            limit.per_period,
        )
    return Decision(
        "granted",
        f"within the limits of tier {agent.tier}: "
        f"{vnd(used + amount)} of {vnd(limit.per_period)} used this period",
        limit.per_period,
    )


def new_offer(
    action: OfferCompensation,
    *,
    customer_id: str,
    agent: Agent | None,
    decision: Decision,
    period: str,
    now: datetime,
) -> CompensationOffer:
    offered = AuditEntry(
        at=now,
        actor_id=action.actor_id,
        action="offered",
        detail=f"{action.compensation} {vnd(action.amount)}"
        + (f": {action.reason}" if action.reason else ""),
    )
    outcome = AuditEntry(
        at=now,
        actor_id=SYSTEM_ACTOR,
        action="granted" if decision.status == "granted" else "approval_requested",
        detail=decision.reason,
    )
    return CompensationOffer(
        offer_id=action.action_id,
        ticket_id=action.ticket_id,
        customer_id=customer_id,
        agent_id=action.actor_id,
        agent_tier=agent.tier if agent else None,
        kind=action.compensation,
        amount=action.amount,
        currency=action.currency,
        reason=action.reason,
        status=decision.status,
        status_reason=decision.reason,
        period=period,
        offered_at=now,
        decided_at=now if decision.status == "granted" else None,
        audit=[offered, outcome],
    )


class ApprovalRefused(ValueError):
    """A decision a lead may not make; `forbidden` (who/how much) or `conflict` (state)."""

    def __init__(self, reason: str, kind: Literal["forbidden", "conflict"]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


def approve(
    limits: CompensationLimits,
    offer: CompensationOffer,
    approver: Agent | None,
    decision: ApprovalDecision,
    now: datetime,
    ticket_holder: str | None = None,
) -> CompensationOffer | None:
    """The decided offer, or None when this approver already made this very decision
    (a retried request changes nothing)."""
    target = "approved" if decision.decision == "approve" else "rejected"
    if offer.status in ("approved", "rejected"):
        if offer.status == target and offer.decided_by == decision.approver_id:
            return None
        raise ApprovalRefused(
            f"offer {offer.offer_id} was already {offer.status} by {offer.decided_by}", "conflict"
        )
    if offer.status == "granted":
        raise ApprovalRefused(
            f"offer {offer.offer_id} was granted within the agent's limits: nothing to decide",
            "conflict",
        )
    if approver is None or not approver.lead:
        raise ApprovalRefused(f"{decision.approver_id} is not a known lead", "forbidden")
    if decision.decision == "approve":
        # Four eyes: a lead's own offer goes to another lead.
        if approver.agent_id == offer.agent_id:
            raise ApprovalRefused("a lead cannot approve their own offer", "forbidden")
        if approver.agent_id == ticket_holder:
            raise ApprovalRefused(
                "a lead cannot approve an offer on a ticket they hold", "forbidden"
            )
        if offer.amount > limits.leads.approve_up_to:
            raise ApprovalRefused(
                f"{vnd(offer.amount)} is above a lead's approval limit of "
                f"{vnd(limits.leads.approve_up_to)}",
                "forbidden",
            )
    entry = AuditEntry(at=now, actor_id=decision.approver_id, action=target, detail=decision.reason)
    return offer.model_copy(
        update={
            "status": target,
            "status_reason": f"{target} by lead {decision.approver_id}"
            + (f": {decision.reason}" if decision.reason else ""),
            "decided_by": decision.approver_id,
            "decided_at": now,
            "audit": [*offer.audit, entry],
        }
    )


# Constructors (each class fixes its own `type`).
EVENT_OF_STATUS: dict[str, Callable[..., Event[Any]]] = {
    "granted": CompensationGranted,
    "approved": CompensationGranted,
    "pending_approval": CompensationApprovalRequested,
    "rejected": CompensationRejected,
}


def offer_event(offer: CompensationOffer) -> Event[Any]:
    """The event for the offer's current status; its id is derived from offer id and
    status, so a republished event is recognized downstream as the same one."""
    cls = EVENT_OF_STATUS[offer.status]
    return cls(
        event_id=deterministic_id("compensation", offer.offer_id, offer.status),
        occurred_at=offer.decided_at or offer.offered_at,
        producer=PRODUCER,
        payload=CompensationPayload(ticket_id=offer.ticket_id, offer=offer),
    )
