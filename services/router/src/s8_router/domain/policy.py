"""Routing policy as a validated model (the service reads it from
`data/routing_policy.yaml` at its edge) and the pure rules that apply it: who may take a
ticket, who should, in which order tickets are served."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from s8_router.domain.model import AgentState, Decision, TicketToRoute
from s8_shared.contracts import Channel, Presence
from s8_shared.contracts.agents import ChannelKind

FIELD = "field"
ON_SITE = "on_site"
PRIORITY_RANK: Mapping[str, int] = {"urgent": 3, "high": 2, "normal": 1, "low": 0}
# Aging lifts a ticket at most just above a fresh urgent one: old tickets overtake, but the
# rank stays bounded so ties fall through to waiting time (oldest first).
MAX_RANK = PRIORITY_RANK["urgent"] + 1

_DEFAULT_KINDS: dict[Channel, ChannelKind] = {
    Channel.LIVE_CHAT: "chat",
    Channel.CHATBOT: "chat",
    Channel.EMAIL: "email",
    Channel.WEB_FORM: "email",
    Channel.SOCIAL: "email",
    Channel.SMS: "email",
    Channel.PHONE: "phone",
    Channel.ON_SITE: "on_site",
}


class RoutingPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    min_skill_level: int = Field(default=2, ge=1, le=5)
    tier_order: tuple[str, ...] = ("L1", "L2", "L3")
    vip_min_tier: str | None = "L2"
    urgent_min_tier: str | None = "L2"
    require_agent_region: bool = True
    stickiness_window_minutes: int = Field(default=1440, ge=0)
    strategy: Literal["least_loaded", "round_robin"] = "least_loaded"
    aging_seconds_per_level: float = Field(default=600, gt=0)
    channel_kind: dict[Channel, ChannelKind] = Field(default_factory=lambda: dict(_DEFAULT_KINDS))
    acceptance_timeout_seconds: int = Field(default=0, ge=0)
    release_on_away: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> RoutingPolicy:
        if not self.tier_order or len(set(self.tier_order)) != len(self.tier_order):
            raise ValueError("tier_order must list distinct tiers")
        if FIELD in self.tier_order:
            raise ValueError("'field' is not on the escalation ladder (tier_order)")
        for name in ("vip_min_tier", "urgent_min_tier"):
            floor = getattr(self, name)
            if floor is not None and floor not in self.tier_order:
                raise ValueError(f"{name} {floor!r} is not in tier_order")
        missing = sorted(c.value for c in Channel if c not in self.channel_kind)
        if missing:
            raise ValueError(f"channel_kind has no kind for {missing}")
        return self


def channel_kind(policy: RoutingPolicy, channel: str) -> str:
    try:
        return policy.channel_kind[Channel(channel)]
    except ValueError:
        raise ValueError(f"unknown channel {channel!r}") from None


def required_tier(policy: RoutingPolicy, ticket: TicketToRoute) -> str | None:
    """Highest of the ticket's own tier and the VIP/urgent floors; on-site work is "field".
    A tier outside tier_order is returned as is, so nobody qualifies (reason `tier`)."""
    if ticket.channel_kind == ON_SITE or ticket.tier_required == FIELD:
        return FIELD
    wanted = [ticket.tier_required]
    if ticket.customer_tier == "vip":
        wanted.append(policy.vip_min_tier)
    if ticket.priority == "urgent":
        wanted.append(policy.urgent_min_tier)
    known = [t for t in wanted if t is not None]
    if not known:
        return None
    unknown = [t for t in known if t not in policy.tier_order]
    if unknown:
        return unknown[0]
    return max(known, key=policy.tier_order.index)


def _tier_ok(policy: RoutingPolicy, need: str | None, have: str) -> bool:
    if need is None:
        return True
    if need == FIELD or need not in policy.tier_order:
        return have == need
    order = policy.tier_order
    return have in order and order.index(have) >= order.index(need)


def _same_region(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def ineligibility(ticket: TicketToRoute, agent: AgentState, policy: RoutingPolicy) -> str | None:
    """Why `agent` may not take `ticket` (None: they may). Checks run from the most
    deliberate to the most transient, so the reason shown is the one that matters most."""
    if agent.agent_id in ticket.excluded_agents:
        return "excluded"
    if agent.presence != Presence.ONLINE:
        return "away" if agent.presence == Presence.AWAY else "offline"
    if not _tier_ok(policy, required_tier(policy, ticket), agent.tier):
        return "tier"
    if ticket.channel_kind == ON_SITE and ticket.region:
        if agent.region is None:
            if policy.require_agent_region:
                return "region"
        elif not _same_region(agent.region, ticket.region):
            return "region"
    if ticket.language not in agent.languages:
        return "language"
    for skill in ticket.required_skills:
        level = agent.skills.get(skill)
        if level is None:
            return f"missing_skill:{skill}"
        if level < policy.min_skill_level:
            return f"skill_level:{skill}"
    if agent.free(ticket.channel_kind) <= 0:
        return "no_capacity"
    return None


def _idle_key(agent: AgentState) -> tuple[int, float]:
    # Never finished a ticket = idle forever, so they come first.
    if agent.last_finished_at is None:
        return (0, 0.0)
    return (1, agent.last_finished_at.timestamp())


def choose(
    ticket: TicketToRoute,
    agents: Sequence[AgentState],
    policy: RoutingPolicy,
    now: datetime,
    rr_cursor: str | None = None,
) -> Decision:
    eligible: list[AgentState] = []
    rejected: dict[str, str] = {}
    for agent in agents:
        why = ineligibility(ticket, agent, policy)
        if why is None:
            eligible.append(agent)
        else:
            rejected[agent.agent_id] = why
    eligible.sort(key=lambda a: a.agent_id)
    ids = tuple(a.agent_id for a in eligible)

    def decide(agent_id: str | None, reason: str) -> Decision:
        return Decision(ticket.ticket_id, agent_id, reason, ids, rejected)

    if not eligible:
        return decide(None, "no_eligible_agent")
    window = timedelta(minutes=policy.stickiness_window_minutes)
    if (
        ticket.previous_agent_id in ids
        and ticket.previous_agent_at is not None
        and now - ticket.previous_agent_at <= window
    ):
        return decide(ticket.previous_agent_id, "previous_agent")
    if policy.strategy == "round_robin":
        after = [i for i in ids if rr_cursor is None or i > rr_cursor]
        return decide((after or list(ids))[0], "round_robin")
    ranked = sorted(eligible, key=lambda a: (a.occupancy(), _idle_key(a), a.agent_id))
    best = ranked[0]
    if (
        len(ranked) > 1
        and ranked[1].occupancy() == best.occupancy()
        and _idle_key(ranked[1]) != _idle_key(best)
    ):
        return decide(best.agent_id, "longest_idle")
    return decide(best.agent_id, "least_loaded")


def effective_rank(ticket: TicketToRoute, now: datetime, policy: RoutingPolicy) -> float:
    waited = max(0.0, (now - ticket.waiting_since).total_seconds())
    aged = PRIORITY_RANK[ticket.priority] + waited / policy.aging_seconds_per_level
    return min(float(MAX_RANK), aged)


def queue_order(
    tickets: Sequence[TicketToRoute], now: datetime, policy: RoutingPolicy
) -> list[TicketToRoute]:
    """Highest effective rank first; equal ranks oldest first, then by id (total order)."""
    return sorted(
        tickets, key=lambda t: (-effective_rank(t, now, policy), t.waiting_since, t.ticket_id)
    )


def place(
    queue: Sequence[TicketToRoute],
    agents: Sequence[AgentState],
    policy: RoutingPolicy,
    now: datetime,
    rr_cursor: str | None = None,
) -> tuple[list[Decision], list[AgentState]]:
    """Greedy assignment in queue order; decisions come back in that order. Each assignment
    takes a slot in the returned roster, so later tickets see what is really left."""
    roster = list(agents)
    where = {a.agent_id: i for i, a in enumerate(roster)}
    if len(where) != len(roster):
        raise ValueError("agent ids must be unique")
    decisions: list[Decision] = []
    for ticket in queue_order(queue, now, policy):
        decision = choose(ticket, roster, policy, now, rr_cursor)
        decisions.append(decision)
        if decision.agent_id is None:
            continue
        i = where[decision.agent_id]
        active = dict(roster[i].active)
        active[ticket.channel_kind] = active.get(ticket.channel_kind, 0) + 1
        roster[i] = replace(roster[i], active=active, last_assigned_at=now)
        if decision.reason == "round_robin":
            rr_cursor = decision.agent_id
    return decisions, roster


def escalate(tier: str | None, policy: RoutingPolicy) -> str | None:
    """One step up the ladder; the top stays put, "field" (and unknown tiers) too."""
    order = policy.tier_order
    if tier is None:
        return order[min(1, len(order) - 1)]
    if tier not in order:
        return tier
    return order[min(order.index(tier) + 1, len(order) - 1)]
