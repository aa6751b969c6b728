"""Incidents of a known problem end to end (intake → router, SLA monitor): a parked
incident gets no agent and no SLA clock until the customer writes again; a VIP's
incident goes to an agent at once."""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from s8_router.app import build as build_router
from s8_router.settings import RouterSettings
from s8_shared import topics
from s8_shared.contracts import ASSIGNMENT_EVENTS, SLA_EVENTS, AgentProfile
from s8_sla_monitor.app import build as build_sla
from s8_sla_monitor.settings import SlaMonitorSettings
from s8_testing.builders import make_inbound
from s8_testing.harness import TestStack, eventually
from s8_testing.intake_stack import Intake, running_intake

pytestmark = pytest.mark.e2e

OUTAGE: dict[str, Any] = {
    "problem_id": "P-fw-21",
    "title": {"vi": "Firmware 2.1 lỗi trên Router X", "en": "Firmware 2.1 breaks Router X"},
    "description": {"vi": "Đang thu hồi bản 2.1.", "en": "Version 2.1 is being pulled."},
    "segment": {"products": ["Router X"]},
    "keywords": ["firmware", "router"],
    "declared_by": "lead-1",
}


@pytest.fixture
async def intake(stack: TestStack) -> AsyncIterator[Intake]:
    async for running in running_intake(stack):
        yield running


async def owner(intake: Intake, upsert_id: str, email: str, **fields: Any) -> None:
    body = {
        "upsert_id": upsert_id,
        "identities": [{"kind": "email", "value": email}],
        "products": ["router-x"],
        **fields,
    }
    assert (await intake.http.put("/v1/customers", json=body)).status_code == 200


def email(message_id: str, sender: str, text: str, **extra: Any) -> dict[str, Any]:
    return make_inbound(
        channel_message_id=message_id,
        **{"from": {"address": sender}},
        subject="Router X",
        text=text,
        **extra,
    )


async def test_a_parked_incident_waits_for_the_fix_and_a_vips_goes_to_an_agent(
    intake: Intake, stack: TestStack
) -> None:
    router_settings = stack.settings(RouterSettings)
    sla_settings = stack.settings(SlaMonitorSettings)
    async with (
        stack.running(build_router, router_settings),
        stack.running(build_sla, sla_settings),
    ):
        roster = AgentProfile.model_validate(
            {
                "agent_id": "an",
                "name": "An",
                "tier": "L2",
                "skills": {"technical": 4, "billing": 4, "shipping": 4, "general": 4},
                "languages": ["vi", "en"],
                "presence": "online",
            }
        )
        await intake.stack.send(
            topics.AGENTS, roster.model_dump_json().encode(), key=roster.agent_id.encode()
        )
        await owner(intake, "u-lan", "lan@example.vn")
        await owner(intake, "u-vip", "vip@example.vn", tier="vip")
        assert (await intake.http.post("/v1/problems", json=OUTAGE)).status_code == 201

        parked = await intake.post(
            email("<lan-1@x>", "lan@example.vn", "Router của tôi hỏng sau khi cập nhật firmware")
        )
        vip = await intake.post(
            email("<vip-1@x>", "vip@example.vn", "My router died after the firmware update")
        )

        async def assigned(ticket_id: str) -> bool:
            return any(
                e.type == "ticket.assigned" and e.payload.ticket_id == ticket_id
                for e in await stack.read_all(topics.ASSIGNMENTS, ASSIGNMENT_EVENTS)
            )

        async def clock_started(ticket_id: str) -> bool:
            return any(
                e.type == "sla.clock_started" and e.payload.ticket_id == ticket_id
                for e in await stack.read_all(topics.SLA, SLA_EVENTS)
            )

        await eventually(lambda: assigned(vip["ticket_id"]), within=20, what="the VIP assigned")
        await eventually(lambda: clock_started(vip["ticket_id"]), within=20, what="VIP clock")
        # The parked ticket was published before the VIP's: both services have handled it.
        await stack.caught_up(router_settings, topics.TICKETS)
        await stack.caught_up(sla_settings, topics.TICKETS)
        decisions = await stack.read_all(topics.ASSIGNMENTS, ASSIGNMENT_EVENTS)
        assert not [e for e in decisions if e.payload.ticket_id == parked["ticket_id"]]
        assert not await clock_started(parked["ticket_id"])

        # The customer insists: now a human takes it, and the SLA clock starts.
        again = await intake.post(
            email(
                "<lan-2@x>",
                "lan@example.vn",
                "Vẫn hỏng, tôi cần người hỗ trợ ngay",
                in_reply_to="<lan-1@x>",
                references=["<lan-1@x>"],
            )
        )
        assert again["ticket_id"] == parked["ticket_id"]
        await eventually(
            lambda: assigned(parked["ticket_id"]), within=20, what="the insisting customer routed"
        )
        await eventually(
            lambda: clock_started(parked["ticket_id"]), within=20, what="its SLA clock"
        )
