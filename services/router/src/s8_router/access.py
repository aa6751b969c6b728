"""Who may change the roster: admins anything; a lead their own team's agents, never a tier
or the lead flag; an agent only their own presence and offers."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from s8_shared.contracts import AgentProfile
from s8_shared.identity import Principal

NEW_AGENT_TIER = "L1"  # what a lead may give an agent they add; other tiers come from admins


def forbid(reason: str) -> HTTPException:
    return HTTPException(status_code=403, detail=reason)


def check_profile_change(
    principal: Principal,
    lead_doc: dict[str, Any] | None,
    stored: AgentProfile | None,
    new: AgentProfile,
) -> None:
    """Raises 403 unless `principal` may write `new` over `stored`."""
    if principal.has("admin"):
        return
    team = _team_of(lead_doc)
    if team is None:
        raise forbid("only an admin, or a lead with a profile in the roster, changes agents")
    if new.team != team or (stored is not None and stored.team != team):
        raise forbid(f"a lead changes the agents of their own team ({team}) only")
    tier, lead = (stored.tier, stored.lead) if stored else (NEW_AGENT_TIER, False)
    if new.tier != tier:
        raise forbid("an agent's tier is set by an admin")
    if new.lead != lead:
        raise forbid("who leads is set by an admin")


def check_presence_change(
    principal: Principal, lead_doc: dict[str, Any] | None, agent: AgentProfile
) -> None:
    if principal.has("admin") or principal.actor_id == agent.agent_id:
        return
    if principal.has("lead") and _team_of(lead_doc) == agent.team:
        return
    raise forbid("an agent sets their own presence; a lead that of their team")


def check_own(principal: Principal, agent_id: str, *, readers: tuple[str, ...]) -> None:
    if principal.actor_id != agent_id and not principal.has(*readers):
        raise forbid(f"this is {agent_id}'s; only they or a {'/'.join(readers)} may")


def _team_of(lead_doc: dict[str, Any] | None) -> str | None:
    if lead_doc is None:
        return None
    profile = AgentProfile.model_validate(lead_doc["profile"])
    return profile.team if profile.lead else None
