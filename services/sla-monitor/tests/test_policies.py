from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from s8_shared.business_time.calendar import DEFAULT_CALENDARS_PATH, CalendarsDocument
from s8_shared.contracts import Channel, CustomerTier, Priority, TicketSnapshot
from s8_shared.data_files import DataFileError, load_model
from s8_sla_monitor.config import read_seed
from s8_sla_monitor.domain.policies import PolicySet, match_policy
from s8_sla_monitor.settings import DEFAULT_POLICIES_PATH

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
DEFAULTS = load_model(DEFAULT_POLICIES_PATH, PolicySet)


def snap(**fields: Any) -> TicketSnapshot:
    base: dict[str, Any] = {
        "ticket_id": "T-1",
        "customer_id": "C-1",
        "channel": "email",
        "status": "new",
        "created_at": NOW,
        "updated_at": NOW,
    }
    return TicketSnapshot.model_validate(base | fields)


def policy_set(*policies: dict[str, Any]) -> PolicySet:
    return PolicySet.model_validate({"policies": list(policies)})


TARGETS = {"first_response": {"seconds": 60, "calendar": "24x7"}}


def test_first_match_by_declared_order() -> None:
    policies = policy_set(
        {"policy_id": "billing-vip", "match": {"teams": ["billing"], "customer_tiers": ["vip"]}}
        | {"targets": TARGETS},
        {"policy_id": "billing", "match": {"teams": ["billing"]}, "targets": TARGETS},
        {
            "policy_id": "chat-or-urgent-cat",
            "match": {"categories": ["outage"]},
            "targets": TARGETS,
        },
        {"policy_id": "all", "targets": TARGETS},
    )
    assert match_policy(policies, snap(team="billing", customer_tier="vip")).policy_id == (
        "billing-vip"
    )
    assert match_policy(policies, snap(team="billing")).policy_id == "billing"
    assert match_policy(policies, snap(category="outage")).policy_id == "chat-or-urgent-cat"
    assert match_policy(policies, snap(team=None)).policy_id == "all"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"priority": "urgent", "channel": "live_chat", "customer_tier": "vip"}, "urgent-chat"),
        ({"priority": "urgent", "channel": "email", "customer_tier": "vip"}, "urgent"),
        ({"channel": "live_chat", "customer_tier": "vip"}, "vip-chat"),
        ({"channel": "email", "customer_tier": "vip"}, "vip"),
        ({"channel": "live_chat"}, "live-chat"),
        ({"channel": "chatbot"}, "live-chat"),
        ({"channel": "email", "priority": "high"}, "high-async"),
        ({"channel": "email"}, "standard"),
        ({"channel": "phone", "priority": "high"}, "standard"),
        ({"channel": "phone", "priority": "high", "callback_requested": True}, "callback"),
        ({"channel": "phone", "priority": "urgent", "callback_requested": True}, "urgent"),
        ({"channel": "phone", "customer_tier": "vip", "callback_requested": True}, "callback"),
    ],
)
def test_shipped_policies_match(fields: dict[str, Any], expected: str) -> None:
    assert match_policy(DEFAULTS, snap(**fields)).policy_id == expected


def test_shipped_defaults_follow_the_seeds() -> None:
    chat = DEFAULTS.get("live-chat")
    standard = DEFAULTS.get("standard")
    urgent = DEFAULTS.get("urgent")
    assert chat
    assert standard
    assert urgent
    assert chat.targets["first_response"].seconds == 300
    assert chat.targets["first_response"].calendar == "24x7"
    assert chat.targets["next_response"].seconds == 300
    assert standard.targets["first_response"].seconds == 4 * 3600
    assert standard.targets["first_response"].calendar == "vn-office"
    assert standard.targets["resolution"].seconds == 48 * 3600
    assert urgent.targets["first_response"].seconds == 900
    assert DEFAULTS.policies[-1].match.is_catch_all
    for policy in DEFAULTS.policies:
        assert not policy.targets["first_response"].pause_on  # first response never pauses
        assert {s.value for s in policy.targets["resolution"].pause_on} == {"pending", "on_hold"}


def test_a_callback_request_has_its_own_first_response_target() -> None:
    missed = match_policy(DEFAULTS, snap(channel="phone", priority="high", callback_requested=True))
    answered = match_policy(DEFAULTS, snap(channel="phone", priority="high"))
    assert missed.policy_id == "callback"
    assert missed.targets["first_response"].seconds == 30 * 60
    assert missed.targets["first_response"].seconds < answered.targets["first_response"].seconds


def test_a_callback_match_leaves_other_tickets_alone() -> None:
    policies = policy_set(
        {"policy_id": "calls", "match": {"callback": True}, "targets": TARGETS},
        {"policy_id": "all", "targets": TARGETS},
    )
    assert match_policy(policies, snap(callback_requested=True)).policy_id == "calls"
    assert match_policy(policies, snap()).policy_id == "all"


@pytest.mark.parametrize("channel", [c.value for c in Channel])
@pytest.mark.parametrize("tier", [t.value for t in CustomerTier])
def test_higher_priority_is_never_looser(channel: str, tier: str) -> None:
    def first_response(priority: str) -> int:
        policy = match_policy(
            DEFAULTS, snap(channel=channel, customer_tier=tier, priority=priority)
        )
        return policy.targets["first_response"].seconds

    ladder = [first_response(p.value) for p in Priority]  # urgent, high, normal, low
    assert ladder == sorted(ladder)


def test_every_referenced_calendar_exists() -> None:
    calendars = load_model(DEFAULT_CALENDARS_PATH, CalendarsDocument).calendars_by_id
    assert DEFAULTS.calendar_ids() <= set(calendars)
    read_seed(DEFAULT_POLICIES_PATH, DEFAULT_CALENDARS_PATH)  # does not raise


def test_unknown_calendar_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "policies:\n  - policy_id: all\n    targets:\n"
        "      resolution: {seconds: 60, calendar: mars-office}\n"
    )
    calendars = tmp_path / "c.yaml"
    calendars.write_text("calendars:\n  24x7: {always_open: true}\n")
    with pytest.raises(DataFileError, match=r"p\.yaml: .*mars-office"):
        read_seed(path, calendars)
    with pytest.raises(ValueError, match="mars-office"):
        load_model(path, PolicySet).check_calendars(["24x7"])


@pytest.mark.parametrize(
    "policies",
    [
        [{"policy_id": "chat", "match": {"channels": ["live_chat"]}, "targets": TARGETS}],
        [{"policy_id": "a", "targets": TARGETS}, {"policy_id": "a", "targets": TARGETS}],
        [{"policy_id": "a", "targets": {"first_response": {"seconds": 0, "calendar": "x"}}}],
        [
            {
                "policy_id": "a",
                "targets": {"resolution": {"seconds": 9, "calendar": "x", "pause_on": ["solved"]}},
            }
        ],
        [{"policy_id": "a", "targets": {"first_reply": {"seconds": 9, "calendar": "x"}}}],
        [{"policy_id": "a", "match": {"channels": []}, "targets": TARGETS}],
        [{"policy_id": "a", "targets": TARGETS, "priority": "urgent"}],
    ],
    ids=[
        "no catch-all",
        "duplicate id",
        "zero seconds",
        "pause on solved",
        "unknown target",
        "empty list",
        "unknown key",
    ],
)
def test_invalid_policy_sets_are_rejected(policies: list[dict[str, Any]]) -> None:
    with pytest.raises(ValidationError):
        PolicySet.model_validate({"policies": policies})
