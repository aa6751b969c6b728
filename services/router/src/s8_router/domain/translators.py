"""Contracts into the router's domain objects: an agent's profile and live load into an
`AgentState`, a ticket snapshot into a `TicketToRoute`. Apart from the model and the policy
(which import neither), so no domain module imports another in a circle."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from s8_router.domain.model import AgentState, TicketToRoute
from s8_router.domain.policy import RoutingPolicy
from s8_shared.contracts import AgentProfile
from s8_shared.contracts.tickets import TicketSnapshot


def agent_from_profile(
    profile: AgentProfile,
    active: Mapping[str, int],
    last_finished_at: datetime | None = None,
    last_assigned_at: datetime | None = None,
) -> AgentState:
    return AgentState(
        agent_id=profile.agent_id,
        team=profile.team,
        tier=profile.tier,
        skills=dict(profile.skills),
        languages=frozenset(str(lang) for lang in profile.languages),
        region=profile.region,
        capacity={str(k): v for k, v in profile.capacity.items()},
        active=dict(active),
        presence=str(profile.presence),
        last_finished_at=last_finished_at,
        last_assigned_at=last_assigned_at,
    )


def ticket_from_snapshot(
    snapshot: TicketSnapshot,
    policy: RoutingPolicy,
    waiting_since: datetime,
    previous_agent_id: str | None = None,
    previous_agent_at: datetime | None = None,
    excluded_agents: frozenset[str] = frozenset(),
) -> TicketToRoute:
    return TicketToRoute(
        ticket_id=snapshot.ticket_id,
        channel_kind=policy.channel_kind[snapshot.channel],
        priority=str(snapshot.priority),
        required_skills=tuple(snapshot.required_skills),
        language=str(snapshot.language),
        tier_required=snapshot.tier_required,
        region=snapshot.region,
        customer_tier=str(snapshot.customer_tier),
        waiting_since=waiting_since,
        previous_agent_id=previous_agent_id,
        previous_agent_at=previous_agent_at,
        excluded_agents=excluded_agents,
    )
