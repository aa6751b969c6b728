from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from s8_router.adapters.policy_file import DEFAULT_POLICY_PATH, load_policy
from s8_router.domain.model import AgentState, TicketToRoute
from s8_router.domain.policy import (
    RoutingPolicy,
    channel_kind,
    choose,
    effective_rank,
    escalate,
    ineligibility,
    place,
    queue_order,
    required_tier,
)
from s8_router.domain.translators import agent_from_profile, ticket_from_snapshot
from s8_shared.contracts import AgentProfile, Channel, CustomerTier, Presence, TicketStatus
from s8_shared.contracts.tickets import TicketSnapshot

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
POLICY = RoutingPolicy()


def agent(agent_id: str = "a1", **kw: Any) -> AgentState:
    base: dict[str, Any] = {
        "agent_id": agent_id,
        "team": "care",
        "tier": "L2",
        "skills": {"billing": 3},
        "languages": frozenset({"vi", "en"}),
        "region": "Hà Nội",
        "capacity": {"chat": 2, "email": 4, "phone": 1, "on_site": 1},
        "active": {},
        "presence": "online",
    }
    base.update(kw)
    return AgentState(**base)


def ticket(ticket_id: str = "T1", **kw: Any) -> TicketToRoute:
    base: dict[str, Any] = {
        "ticket_id": ticket_id,
        "channel_kind": "chat",
        "priority": "normal",
        "required_skills": ("billing",),
        "language": "vi",
        "tier_required": None,
        "region": None,
        "customer_tier": "standard",
        "waiting_since": NOW,
    }
    base.update(kw)
    return TicketToRoute(**base)


# --- policy data ---------------------------------------------------------------------


def test_default_data_file_loads_and_matches_model_defaults() -> None:
    policy = load_policy(DEFAULT_POLICY_PATH)
    assert policy == RoutingPolicy()
    assert policy.tier_order == ("L1", "L2", "L3")
    assert set(policy.channel_kind) == set(Channel)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("strategy: random\n", "invalid RoutingPolicy"),
        ("vip_min_tier: L9\n", "not in tier_order"),
        ("tier_order: [L1, field]\n", "escalation ladder"),
        ("channel_kind: {email: email}\n", "no kind for"),
        ("aging_seconds_per_level: 0\n", "invalid RoutingPolicy"),
        ("bogus: 1\n", "invalid RoutingPolicy"),
        ("strategy: [\n", "not valid YAML"),
    ],
)
def test_bad_policy_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_policy(path)


@pytest.mark.parametrize(
    ("channel", "kind"),
    [
        ("live_chat", "chat"),
        ("chatbot", "chat"),
        ("email", "email"),
        ("web_form", "email"),
        ("social", "email"),
        ("sms", "email"),
        ("phone", "phone"),
        ("on_site", "on_site"),
    ],
)
def test_channel_kind(channel: str, kind: str) -> None:
    assert channel_kind(POLICY, channel) == kind


def test_unknown_channel_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown channel"):
        channel_kind(POLICY, "carrier_pigeon")


# --- tiers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, None),
        ({"tier_required": "L1"}, "L1"),
        ({"customer_tier": "vip"}, "L2"),
        ({"priority": "urgent"}, "L2"),
        ({"customer_tier": "vip", "tier_required": "L1"}, "L2"),
        ({"customer_tier": "vip", "tier_required": "L3"}, "L3"),
        ({"priority": "urgent", "tier_required": "L3"}, "L3"),
        ({"channel_kind": "on_site", "customer_tier": "vip"}, "field"),
        ({"tier_required": "field", "priority": "urgent"}, "field"),
        ({"tier_required": "L9"}, "L9"),  # unknown: nobody qualifies
    ],
)
def test_required_tier(kw: dict[str, Any], expected: str | None) -> None:
    assert required_tier(POLICY, ticket(**kw)) == expected


def test_tier_floors_can_be_switched_off() -> None:
    policy = RoutingPolicy(vip_min_tier=None, urgent_min_tier=None)
    assert required_tier(policy, ticket(customer_tier="vip", priority="urgent")) is None


@pytest.mark.parametrize(
    ("tier", "expected"),
    [(None, "L2"), ("L1", "L2"), ("L2", "L3"), ("L3", "L3"), ("field", "field")],
)
def test_escalate(tier: str | None, expected: str) -> None:
    assert escalate(tier, POLICY) == expected


# --- eligibility ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent_kw", "ticket_kw", "reason"),
    [
        ({}, {}, None),
        ({"presence": "offline"}, {}, "offline"),
        ({"presence": "away"}, {}, "away"),
        ({"active": {"chat": 2}}, {}, "no_capacity"),
        ({"capacity": {"email": 4}}, {}, "no_capacity"),
        ({"skills": {}}, {}, "missing_skill:billing"),
        ({"skills": {"billing": 1}}, {}, "skill_level:billing"),
        ({"skills": {"billing": 2}}, {}, None),  # exactly min_skill_level
        (
            {"skills": {"billing": 5}},
            {"required_skills": ("billing", "tech")},
            "missing_skill:tech",
        ),
        ({"languages": frozenset({"en"})}, {}, "language"),
        ({"tier": "L1"}, {"customer_tier": "vip"}, "tier"),
        ({"tier": "L1"}, {"priority": "urgent"}, "tier"),
        ({"tier": "L2"}, {"tier_required": "L3"}, "tier"),
        ({"tier": "L3"}, {"tier_required": "L2"}, None),
        ({"tier": "field"}, {"customer_tier": "vip"}, "tier"),
        ({"tier": "field"}, {}, None),  # no tier asked: anyone with the skills
        ({"tier": "L1"}, {"tier_required": "L9"}, "tier"),
        ({"tier": "L3"}, {"channel_kind": "on_site"}, "tier"),
        ({"tier": "field"}, {"channel_kind": "on_site"}, None),
        ({"tier": "field"}, {"channel_kind": "on_site", "region": "Hà Nội"}, None),
        ({"tier": "field"}, {"channel_kind": "on_site", "region": " hà nội "}, None),
        ({"tier": "field"}, {"channel_kind": "on_site", "region": "Đà Nẵng"}, "region"),
        ({"tier": "field", "region": None}, {"channel_kind": "on_site", "region": "HN"}, "region"),
        ({"tier": "L2", "region": "HCM"}, {"region": "HN"}, None),  # region is for on-site only
        ({}, {"excluded_agents": frozenset({"a1"})}, "excluded"),
        ({"presence": "offline"}, {"excluded_agents": frozenset({"a1"})}, "excluded"),
        ({"presence": "away", "skills": {}}, {}, "away"),  # presence before skills
    ],
)
def test_ineligibility(
    agent_kw: dict[str, Any], ticket_kw: dict[str, Any], reason: str | None
) -> None:
    assert ineligibility(ticket(**ticket_kw), agent(**agent_kw), POLICY) == reason


def test_agent_without_region_may_go_on_site_when_policy_allows() -> None:
    policy = RoutingPolicy(require_agent_region=False)
    field = agent(tier="field", region=None)
    assert ineligibility(ticket(channel_kind="on_site", region="HN"), field, policy) is None


def test_free_and_occupancy() -> None:
    a = agent(capacity={"chat": 2, "email": 4, "phone": 0}, active={"chat": 1, "email": 2})
    assert (a.free("chat"), a.free("email"), a.free("phone"), a.free("on_site")) == (1, 2, 0, 0)
    assert a.occupancy() == pytest.approx(3 / 6)
    assert agent(capacity={}, active={}).occupancy() == 0.0
    assert agent(capacity={"chat": 1}, active={"chat": 3}).free("chat") == 0


# --- choosing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "expected", "reason"),
    [
        (timedelta(minutes=5), "a2", "previous_agent"),
        (timedelta(minutes=1440), "a2", "previous_agent"),
        (timedelta(minutes=1441), "a1", "least_loaded"),
    ],
)
def test_stickiness_window(age: timedelta, expected: str, reason: str) -> None:
    agents = [agent("a1"), agent("a2", active={"chat": 1})]
    t = ticket(previous_agent_id="a2", previous_agent_at=NOW - age)
    decision = choose(t, agents, POLICY, NOW)
    assert (decision.agent_id, decision.reason) == (expected, reason)


def test_previous_agent_who_is_not_eligible_is_not_forced() -> None:
    agents = [agent("a1"), agent("a2", presence="away")]
    t = ticket(previous_agent_id="a2", previous_agent_at=NOW)
    decision = choose(t, agents, POLICY, NOW)
    assert (decision.agent_id, decision.reason) == ("a1", "least_loaded")
    assert decision.rejected == {"a2": "away"}


@pytest.mark.parametrize(
    ("a1_kw", "a2_kw", "expected", "reason"),
    [
        ({"active": {"chat": 1}}, {}, "a2", "least_loaded"),
        ({}, {"active": {"email": 1}}, "a1", "least_loaded"),
        # equal load: longest idle wins; never having finished counts as idle forever
        (
            {"last_finished_at": NOW - timedelta(minutes=5)},
            {"last_finished_at": NOW - timedelta(minutes=50)},
            "a2",
            "longest_idle",
        ),
        ({"last_finished_at": NOW}, {"last_finished_at": None}, "a2", "longest_idle"),
        # complete tie: agent id decides, deterministically
        ({}, {}, "a1", "least_loaded"),
        # a busier agent loses even if idle for longer
        (
            {"active": {"chat": 1}, "last_finished_at": None},
            {"last_finished_at": NOW},
            "a2",
            "least_loaded",
        ),
    ],
)
def test_least_loaded_then_longest_idle(
    a1_kw: dict[str, Any], a2_kw: dict[str, Any], expected: str, reason: str
) -> None:
    decision = choose(ticket(), [agent("a2", **a2_kw), agent("a1", **a1_kw)], POLICY, NOW)
    assert (decision.agent_id, decision.reason) == (expected, reason)
    assert decision.eligible == ("a1", "a2")


@pytest.mark.parametrize(
    ("cursor", "expected"),
    [(None, "a1"), ("a1", "a3"), ("a2", "a3"), ("a3", "a1"), ("zz", "a1")],
)
def test_round_robin_wraps(cursor: str | None, expected: str) -> None:
    policy = RoutingPolicy(strategy="round_robin")
    agents = [agent("a3"), agent("a2", presence="offline"), agent("a1")]
    decision = choose(ticket(), agents, policy, NOW, rr_cursor=cursor)
    assert (decision.agent_id, decision.reason) == (expected, "round_robin")


def test_no_eligible_agent_explains_everyone() -> None:
    agents = [agent("a1", presence="offline"), agent("a2", languages=frozenset({"en"}))]
    decision = choose(ticket(), agents, POLICY, NOW)
    assert decision.agent_id is None
    assert decision.reason == "no_eligible_agent"
    assert decision.eligible == ()
    assert decision.rejected == {"a1": "offline", "a2": "language"}


# --- queue order and placement -------------------------------------------------------


def test_effective_rank_ages_and_caps() -> None:
    assert effective_rank(ticket(priority="low"), NOW, POLICY) == 0
    assert effective_rank(ticket(priority="urgent"), NOW, POLICY) == 3
    old_low = ticket(priority="low", waiting_since=NOW - timedelta(minutes=20))
    assert effective_rank(old_low, NOW, POLICY) == pytest.approx(2)
    ancient = ticket(priority="low", waiting_since=NOW - timedelta(days=3))
    assert effective_rank(ancient, NOW, POLICY) == 4
    future = ticket(priority="high", waiting_since=NOW + timedelta(minutes=1))
    assert effective_rank(future, NOW, POLICY) == 2


def test_queue_order_priority_then_age_then_id() -> None:
    tickets = [
        ticket("T5", priority="low"),
        ticket("T4", priority="urgent"),
        ticket("T3", priority="normal", waiting_since=NOW - timedelta(seconds=30)),
        ticket("T2", priority="normal", waiting_since=NOW - timedelta(seconds=30)),
        ticket("T1", priority="low", waiting_since=NOW - timedelta(minutes=41)),
    ]
    ordered = [t.ticket_id for t in queue_order(tickets, NOW, POLICY)]
    assert ordered == ["T1", "T4", "T2", "T3", "T5"]


def test_place_fills_capacity_in_queue_order_and_leaves_the_rest() -> None:
    agents = [agent("a1", capacity={"chat": 1}), agent("a2", capacity={"chat": 1})]
    queue = [
        ticket("T1", priority="low"),
        ticket("T2", priority="urgent"),
        ticket("T3", priority="high"),
    ]
    decisions, roster = place(queue, agents, POLICY, NOW)
    assert [(d.ticket_id, d.agent_id) for d in decisions] == [
        ("T2", "a1"),
        ("T3", "a2"),
        ("T1", None),
    ]
    assert decisions[2].rejected == {"a1": "no_capacity", "a2": "no_capacity"}
    assert [a.active for a in roster] == [{"chat": 1}, {"chat": 1}]
    assert all(a.last_assigned_at == NOW for a in roster)
    assert agents[0].active == {}  # the input roster is left alone


def test_place_round_robin_advances_the_cursor() -> None:
    policy = RoutingPolicy(strategy="round_robin")
    agents = [agent("a1"), agent("a2"), agent("a3")]
    queue = [ticket(f"T{i}", waiting_since=NOW - timedelta(seconds=10 - i)) for i in range(4)]
    decisions, _ = place(queue, agents, policy, NOW, rr_cursor="a1")
    assert [d.agent_id for d in decisions] == ["a2", "a3", "a1", "a2"]


def test_place_refuses_duplicate_agent_ids() -> None:
    with pytest.raises(ValueError, match="unique"):
        place([ticket()], [agent("a1"), agent("a1")], POLICY, NOW)


# --- converters ----------------------------------------------------------------------


def test_agent_from_profile() -> None:
    profile = AgentProfile(
        agent_id="lan",
        name="Lan",
        tier="L3",
        skills={"billing": 4},
        languages=["vi", "en"],
        presence=Presence.ONLINE,
    )
    state = agent_from_profile(profile, {"chat": 1}, NOW, None)
    assert state.languages == frozenset({"vi", "en"})
    assert state.presence == "online"
    assert state.capacity == {"chat": 3, "email": 8, "phone": 1, "on_site": 1}
    assert (state.tier, state.free("chat"), state.last_finished_at) == ("L3", 2, NOW)


def test_ticket_from_snapshot() -> None:
    snapshot = TicketSnapshot(
        ticket_id="T-1",
        customer_id="C-1",
        channel=Channel.SOCIAL,
        status=TicketStatus.NEW,
        priority="urgent",
        required_skills=["billing"],
        customer_tier=CustomerTier.VIP,
        created_at=NOW,
        updated_at=NOW,
    )
    t = ticket_from_snapshot(snapshot, POLICY, NOW, "lan", NOW, frozenset({"minh"}))
    expected = ticket(
        "T-1",
        channel_kind="email",
        priority="urgent",
        customer_tier="vip",
        previous_agent_id="lan",
        previous_agent_at=NOW,
        excluded_agents=frozenset({"minh"}),
    )
    assert t == expected
