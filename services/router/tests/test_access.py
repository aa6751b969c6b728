"""Who may change the roster: admins anything; a lead their team's agents, never a tier or
the lead flag; an agent their own presence."""

from typing import Any

import pytest
from fastapi import HTTPException

from s8_router.access import check_own, check_presence_change, check_profile_change
from s8_shared.contracts import AgentProfile
from s8_shared.identity import Principal

HA = AgentProfile(agent_id="ha", name="Hà", team="billing", tier="L3", lead=True)
LAN = AgentProfile(agent_id="lan", name="Lan", team="billing", tier="L1")
HUY = AgentProfile(agent_id="huy", name="Huy", team="technical", tier="L2")


def who(actor: str, *roles: str) -> Principal:
    return Principal(f"sub-{actor}", actor, frozenset(roles))


def doc(profile: AgentProfile) -> dict[str, Any]:
    return {"_id": profile.agent_id, "profile": profile.model_dump(mode="json")}


def refused(check: Any, *args: Any) -> str:
    with pytest.raises(HTTPException) as caught:
        check(*args)
    assert caught.value.status_code == 403
    return str(caught.value.detail)


def test_an_admin_sets_tiers_and_leads() -> None:
    check_profile_change(who("an", "admin"), None, LAN, LAN.model_copy(update={"tier": "L3", "lead": True}))  # fmt: skip


def test_a_lead_edits_their_team_but_never_a_tier_or_the_lead_flag() -> None:
    lead = who("ha", "agent", "lead")
    check_profile_change(lead, doc(HA), LAN, LAN.model_copy(update={"skills": {"billing": 5}}))
    assert "tier" in refused(check_profile_change, lead, doc(HA), LAN, LAN.model_copy(update={"tier": "L3"}))  # fmt: skip
    assert "leads" in refused(check_profile_change, lead, doc(HA), LAN, LAN.model_copy(update={"lead": True}))  # fmt: skip
    assert "own team" in refused(check_profile_change, lead, doc(HA), HUY, HUY.model_copy(update={"skills": {}}))  # fmt: skip


def test_a_lead_adds_a_new_agent_to_their_team_at_l1_only() -> None:
    lead = who("ha", "agent", "lead")
    mallory = AgentProfile(agent_id="mallory", name="M", team="billing", tier="L1")
    check_profile_change(lead, doc(HA), None, mallory)
    assert "leads" in refused(check_profile_change, lead, doc(HA), None, mallory.model_copy(update={"lead": True}))  # fmt: skip
    assert "tier" in refused(check_profile_change, lead, doc(HA), None, mallory.model_copy(update={"tier": "L3"}))  # fmt: skip


def test_a_lead_role_without_a_lead_profile_changes_nothing() -> None:
    assert "lead with a profile" in refused(check_profile_change, who("lan", "lead"), doc(LAN), LAN, LAN)  # fmt: skip
    assert "lead with a profile" in refused(check_profile_change, who("x", "lead"), None, LAN, LAN)  # fmt: skip


def test_presence_is_set_by_the_agent_their_lead_or_an_admin() -> None:
    check_presence_change(who("lan", "agent"), doc(LAN), LAN)
    check_presence_change(who("ha", "agent", "lead"), doc(HA), LAN)
    check_presence_change(who("an", "admin"), None, HUY)
    refused(check_presence_change, who("lan", "agent"), doc(LAN), HUY)
    refused(check_presence_change, who("ha", "agent", "lead"), doc(HA), HUY)  # another team


def test_an_agent_reads_their_own_load_and_readers_any() -> None:
    check_own(who("lan", "agent"), "lan", readers=("lead",))
    check_own(who("thao", "analyst"), "lan", readers=("analyst",))
    refused(lambda: check_own(who("lan", "agent"), "huy", readers=("lead",)))
