"""Properties of greedy placement over random rosters and ticket streams.

The eligibility oracle here is written independently of `ineligibility`, so a bug there
cannot hide itself."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from s8_router.domain.model import AgentState, Decision, TicketToRoute
from s8_router.domain.policy import (
    RoutingPolicy,
    effective_rank,
    place,
    queue_order,
    required_tier,
)

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
KINDS = ("chat", "email", "phone", "on_site")
SKILLS = ("billing", "tech", "returns")
TIERS = ("L1", "L2", "L3", "field")
REGIONS = (None, "HN", "HCM")
LADDER = {"L1": 1, "L2": 2, "L3": 3}

policies = st.builds(
    RoutingPolicy,
    min_skill_level=st.integers(1, 5),
    strategy=st.sampled_from(["least_loaded", "round_robin"]),
    stickiness_window_minutes=st.sampled_from([0, 30, 1440]),
    aging_seconds_per_level=st.sampled_from([60.0, 600.0, 3600.0]),
    require_agent_region=st.booleans(),
)


@st.composite
def rosters(draw: st.DrawFn) -> list[AgentState]:
    n = draw(st.integers(1, 8))
    roster = []
    for i in range(n):
        capacity = {k: draw(st.integers(0, 3)) for k in KINDS}
        roster.append(
            AgentState(
                agent_id=f"a{i}",
                team="care",
                tier=draw(st.sampled_from(TIERS)),
                skills=draw(st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5))),
                languages=draw(st.frozensets(st.sampled_from(["vi", "en"]), min_size=1)),
                region=draw(st.sampled_from(REGIONS)),
                capacity=capacity,
                active={k: draw(st.integers(0, c)) for k, c in capacity.items()},
                presence=draw(st.sampled_from(["online", "online", "away", "offline"])),
                last_finished_at=draw(
                    st.none() | st.integers(0, 7200).map(lambda s: NOW - timedelta(seconds=s))
                ),
            )
        )
    return roster


@st.composite
def streams(draw: st.DrawFn) -> list[TicketToRoute]:
    n = draw(st.integers(1, 40))
    agent_ids = [f"a{i}" for i in range(8)]
    return [
        TicketToRoute(
            ticket_id=f"T{i:02d}",
            channel_kind=draw(st.sampled_from(KINDS)),
            priority=draw(st.sampled_from(["urgent", "high", "normal", "low"])),
            required_skills=tuple(draw(st.lists(st.sampled_from(SKILLS), max_size=2))),
            language=draw(st.sampled_from(["vi", "en"])),
            tier_required=draw(st.sampled_from([None, "L1", "L2", "L3"])),
            region=draw(st.sampled_from(REGIONS)),
            customer_tier=draw(st.sampled_from(["vip", "standard", "standard"])),
            waiting_since=NOW - timedelta(seconds=draw(st.integers(0, 7200))),
            previous_agent_id=draw(st.none() | st.sampled_from(agent_ids)),
            previous_agent_at=draw(
                st.none() | st.integers(0, 3000).map(lambda m: NOW - timedelta(minutes=m))
            ),
            excluded_agents=draw(st.frozensets(st.sampled_from(agent_ids), max_size=2)),
        )
        for i in range(n)
    ]


def statically_fits(t: TicketToRoute, a: AgentState, policy: RoutingPolicy) -> bool:
    """Everything but capacity, restated from the routing rules."""
    if a.presence != "online" or a.agent_id in t.excluded_agents or t.language not in a.languages:
        return False
    if any(a.skills.get(s, 0) < policy.min_skill_level for s in t.required_skills):
        return False
    if t.channel_kind == "on_site":
        if a.tier != "field":
            return False
        # a known ticket region needs that region; an agent without one only if allowed
        elsewhere = t.region is not None and a.region != t.region
        return not (elsewhere and (a.region is not None or policy.require_agent_region))
    floor = max(
        [LADDER[t.tier_required] if t.tier_required else 0]
        + ([2] if t.customer_tier == "vip" else [])
        + ([2] if t.priority == "urgent" else [])
    )
    return floor == 0 or LADDER.get(a.tier, 0) >= floor


def replay(
    decisions: list[Decision], tickets: dict[str, TicketToRoute], roster: list[AgentState]
) -> list[tuple[Decision, dict[str, Counter[str]]]]:
    """Each decision with the load every agent had when it was taken."""
    load = {a.agent_id: Counter(dict(a.active)) for a in roster}
    seen = []
    for d in decisions:
        seen.append((d, {k: Counter(v) for k, v in load.items()}))
        if d.agent_id is not None:
            load[d.agent_id][tickets[d.ticket_id].channel_kind] += 1
    return seen


@settings(max_examples=200, deadline=None)
@given(policy=policies, roster=rosters(), queue=streams())
def test_placement_properties(
    policy: RoutingPolicy, roster: list[AgentState], queue: list[TicketToRoute]
) -> None:
    before = [(a.agent_id, dict(a.active)) for a in roster]
    decisions, after = place(queue, roster, policy, NOW)
    tickets = {t.ticket_id: t for t in queue}
    agents = {a.agent_id: a for a in roster}

    # inputs untouched; one decision per ticket, in queue order
    assert [(a.agent_id, dict(a.active)) for a in roster] == before
    assert [d.ticket_id for d in decisions] == [
        t.ticket_id for t in queue_order(queue, NOW, policy)
    ]

    # the returned roster holds exactly what was assigned, and nobody exceeds capacity
    assigned = Counter((d.agent_id, tickets[d.ticket_id].channel_kind) for d in decisions)
    for a in after:
        for kind in KINDS:
            gained = a.active.get(kind, 0) - agents[a.agent_id].active.get(kind, 0)
            assert gained == assigned[(a.agent_id, kind)]
            assert a.active.get(kind, 0) <= a.capacity.get(kind, 0)

    for d, load in replay(decisions, tickets, roster):
        t = tickets[d.ticket_id]
        # every agent is accounted for: eligible or rejected with a reason
        assert set(d.eligible) | set(d.rejected) == set(agents)
        assert not set(d.eligible) & set(d.rejected)
        available = [
            a.agent_id
            for a in roster
            if statically_fits(t, a, policy)
            and load[a.agent_id][t.channel_kind] < a.capacity[t.channel_kind]
        ]
        assert sorted(d.eligible) == available
        if d.agent_id is None:
            assert not available  # work-conserving: placed whenever someone could take it
        else:
            assert d.agent_id in available  # online, skilled, right language/tier/region

    # identical needs: a higher-ranked ticket never waits while a lower-ranked one is served
    def needs(t: TicketToRoute) -> tuple[object, ...]:
        skills = frozenset(t.required_skills)
        return (t.channel_kind, skills, t.language, required_tier(policy, t), t.region)

    served = {d.ticket_id: d.agent_id is not None for d in decisions}
    plain = [t for t in queue if not t.excluded_agents]
    for hi in plain:
        for lo in plain:
            if (
                needs(hi) == needs(lo)
                and effective_rank(hi, NOW, policy) > effective_rank(lo, NOW, policy)
                and served[lo.ticket_id]
            ):
                assert served[hi.ticket_id], (hi.ticket_id, lo.ticket_id)


def plain_ticket(ticket_id: str, priority: str, waiting_since: datetime) -> TicketToRoute:
    return TicketToRoute(
        ticket_id=ticket_id,
        channel_kind="chat",
        priority=priority,
        required_skills=(),
        language="vi",
        tier_required=None,
        region=None,
        customer_tier="standard",
        waiting_since=waiting_since,
    )


@settings(max_examples=200, deadline=None)
@given(
    aging=st.floats(1, 7200),
    extra=st.floats(0, 86400),
    urgent_age=st.floats(0, 0.99),
)
def test_old_low_ticket_overtakes_fresh_urgent(
    aging: float, extra: float, urgent_age: float
) -> None:
    policy = RoutingPolicy(aging_seconds_per_level=aging)
    # waiting four levels' worth lifts "low" (0) past "urgent" (3): nothing starves
    low = plain_ticket("T-low", "low", NOW - timedelta(seconds=4 * aging + extra + 1))
    urgent = plain_ticket("T-urgent", "urgent", NOW - timedelta(seconds=urgent_age * aging))
    for order in ([low, urgent], [urgent, low]):
        assert [t.ticket_id for t in queue_order(order, NOW, policy)] == ["T-low", "T-urgent"]


@settings(max_examples=200, deadline=None)
@given(policy=policies, queue=streams(), seed=st.randoms(use_true_random=False))
def test_queue_order_is_total_and_input_order_free(
    policy: RoutingPolicy, queue: list[TicketToRoute], seed: random.Random
) -> None:
    shuffled = list(queue)
    seed.shuffle(shuffled)
    ordered = queue_order(queue, NOW, policy)
    assert queue_order(shuffled, NOW, policy) == ordered
    ranks = [effective_rank(t, NOW, policy) for t in ordered]
    assert ranks == sorted(ranks, reverse=True)
