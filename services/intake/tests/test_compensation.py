from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s8_intake.adapters.data_files import load_limits
from s8_intake.domain.compensation import (
    Agent,
    ApprovalRefused,
    CompensationLimits,
    approve,
    decide,
    new_offer,
    offer_event,
)
from s8_shared.contracts.actions import OfferCompensation
from s8_shared.contracts.compensation import ApprovalDecision, CompensationOffer
from s8_testing.builders import T0

LIMITS = load_limits()  # the shipped data: L1 500k per offer, 1M per day
L1 = Agent("agent-1", "L1")
L2 = Agent("agent-2", "L2")
LEAD = Agent("lead-1", "L2", lead=True)
LATER = T0 + timedelta(minutes=5)


def make_action(**overrides: Any) -> OfferCompensation:
    fields: dict[str, Any] = {
        "action_id": "offer-1",
        "ticket_id": "T-1",
        "actor_id": "agent-1",
        "compensation": "voucher",
        "amount": 200_000,
        "reason": "giao hàng trễ",
    }
    fields.update(overrides)
    return OfferCompensation(**fields)


def make_offer(agent: Agent | None = L1, used: int = 0, **overrides: Any) -> CompensationOffer:
    action = make_action(**overrides)
    decision = decide(LIMITS, agent, action.amount, used)
    return new_offer(
        action, customer_id="C-1", agent=agent, decision=decision, period="2026-11-25", now=T0
    )


def decision(approver: str = "lead-1", verdict: str = "approve", **kw: Any) -> ApprovalDecision:
    return ApprovalDecision(approver_id=approver, decision=verdict, **kw)


@pytest.mark.parametrize(
    ("agent", "amount", "used", "status", "reason"),
    [
        (L1, 200_000, 0, "granted", "within the limits of tier L1: 200,000 VND of 1,000,000 VND"),
        (L1, 500_000, 500_000, "granted", "1,000,000 VND of 1,000,000 VND used"),
        (L1, 500_001, 0, "pending_approval", "above the per-offer limit of tier L1"),
        (L1, 300_000, 800_000, "pending_approval", "would exceed the period cap: used 800,000"),
        (L2, 2_000_000, 0, "granted", "tier L2"),
        (None, 1_000, 0, "pending_approval", "unknown agent"),
    ],
    ids=[
        "small-offer-granted",
        "exactly-at-the-cap-granted",
        "one-dong-above-the-per-offer-limit",
        "period-cap-would-be-exceeded",
        "a-higher-tier-has-higher-limits",
        "unknown-agent-always-needs-approval",
    ],
)
def test_an_offer_is_granted_only_within_the_per_offer_limit_and_the_period_cap(
    agent: Agent | None, amount: int, used: int, status: str, reason: str
) -> None:
    outcome = decide(LIMITS, agent, amount, used)
    assert outcome.status == status
    assert reason in outcome.reason


@given(st.lists(st.integers(min_value=1, max_value=700_000), max_size=40))
def test_granted_amounts_in_a_period_never_exceed_the_cap(amounts: list[int]) -> None:
    used = 0
    for amount in amounts:
        if decide(LIMITS, L1, amount, used).status == "granted":
            used += amount
    assert used <= LIMITS.tiers["L1"].per_period


def test_the_period_is_the_local_day_in_vietnam() -> None:
    assert LIMITS.period_of(datetime(2026, 11, 25, 16, 59, tzinfo=UTC)) == "2026-11-25"
    assert LIMITS.period_of(datetime(2026, 11, 25, 17, 0, tzinfo=UTC)) == "2026-11-26"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            "version: 1\ntiers: {L1: {per_offer: 2, per_period: 1}}\nleads: {approve_up_to: 5}",
            "per_offer",
        ),
        ("version: 1\ntime_zone: Mars/Olympus\ntiers: {}\nleads: {approve_up_to: 5}", "time zone"),
        ("version: 1\ncurrency: USD\ntiers: {}\nleads: {approve_up_to: 5}", "currency"),
        ("version: 1\ntiers: {L9: {per_offer: 1, per_period: 1}}\nleads: {approve_up_to: 5}", "L9"),
        ("version: [1", "not valid YAML"),
    ],
    ids=["offer-above-cap", "unknown-zone", "other-currency", "unknown-tier", "broken-yaml"],
)
def test_bad_limits_files_are_refused_with_a_reason(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "limits.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        load_limits(path)


def test_a_new_offer_records_who_offered_and_the_outcome_in_its_audit_trail() -> None:
    granted = make_offer()
    pending = make_offer(amount=900_000)
    assert [(a.actor_id, a.action) for a in granted.audit] == [
        ("agent-1", "offered"),
        ("s8-intake", "granted"),
    ]
    assert [a.action for a in pending.audit] == ["offered", "approval_requested"]
    assert (granted.decided_at, pending.decided_at) == (T0, None)
    assert granted.audit[0].detail == "voucher 200,000 VND: giao hàng trễ"


def test_a_lead_approves_a_pending_offer_with_an_audit_entry() -> None:
    pending = make_offer(amount=900_000)
    approved = approve(LIMITS, pending, LEAD, decision(reason="khách VIP"), LATER)
    assert approved is not None
    assert (approved.status, approved.decided_by, approved.decided_at) == (
        "approved",
        "lead-1",
        LATER,
    )
    assert approved.audit[-1].model_dump() == {
        "at": LATER,
        "actor_id": "lead-1",
        "action": "approved",
        "detail": "khách VIP",
    }


REFUSALS: list[tuple[str, CompensationOffer, Agent | None, ApprovalDecision, str, str]] = [
    (
        "not-a-lead",
        make_offer(amount=900_000),
        L2,
        decision("agent-2"),
        "forbidden",
        "agent-2 is not a known lead",
    ),
    (
        "unknown-approver",
        make_offer(amount=900_000),
        None,
        decision("ghost"),
        "forbidden",
        "ghost is not a known lead",
    ),
    (
        "above-the-leads-limit",
        make_offer(amount=25_000_000),
        LEAD,
        decision(),
        "forbidden",
        "above a lead's approval limit of 20,000,000 VND",
    ),
    (
        "own-offer",
        make_offer(LEAD, actor_id="lead-1", amount=9_000_000),
        LEAD,
        decision(),
        "forbidden",
        "their own offer",
    ),
    (
        "granted-at-once",
        make_offer(),
        LEAD,
        decision(),
        "conflict",
        "granted within the agent's limits",
    ),
    (
        "rejected-before",
        approve(LIMITS, make_offer(amount=900_000), LEAD, decision(verdict="reject"), T0),  # type: ignore[list-item]
        LEAD,
        decision(),
        "conflict",
        "already rejected by lead-1",
    ),
    (
        "approved-by-another-lead",
        approve(LIMITS, make_offer(amount=900_000), LEAD, decision(), T0),  # type: ignore[list-item]
        Agent("lead-2", "L3", lead=True),
        decision("lead-2"),
        "conflict",
        "already approved by lead-1",
    ),
]


@pytest.mark.parametrize(
    ("offer", "approver", "verdict", "kind", "reason"),
    [r[1:] for r in REFUSALS],
    ids=[r[0] for r in REFUSALS],
)
def test_approvals_are_refused_with_a_reason(
    offer: CompensationOffer,
    approver: Agent | None,
    verdict: ApprovalDecision,
    kind: str,
    reason: str,
) -> None:
    with pytest.raises(ApprovalRefused) as refused:
        approve(LIMITS, offer, approver, verdict, LATER)
    assert refused.value.kind == kind
    assert reason in refused.value.reason


def test_a_lead_may_reject_any_amount_and_repeating_a_decision_changes_nothing() -> None:
    rejected = approve(LIMITS, make_offer(amount=25_000_000), LEAD, decision(verdict="reject"), T0)
    assert rejected is not None
    assert rejected.status == "rejected"
    assert approve(LIMITS, rejected, LEAD, decision(verdict="reject"), LATER) is None


def test_each_status_has_its_event_with_an_id_stable_across_republishes() -> None:
    pending = make_offer(amount=900_000)
    approved = approve(LIMITS, pending, LEAD, decision(), LATER)
    assert approved is not None
    events = [offer_event(o) for o in (make_offer(), pending, approved)]
    assert [e.type for e in events] == [
        "compensation.granted",
        "compensation.approval_requested",
        "compensation.granted",
    ]
    assert offer_event(pending).event_id == events[1].event_id
    assert events[1].event_id != events[2].event_id  # same offer, another status
    assert events[2].partition_key() == b"T-1"
    assert events[2].occurred_at == LATER


def test_the_shipped_limits_cover_every_tier() -> None:
    assert set(LIMITS.tiers) == {"L1", "L2", "L3", "field"}
    assert isinstance(LIMITS, CompensationLimits)
