"""Compensation within limits on the real broker and store: agent profiles from the agents
topic, grants at once, approvals by leads over HTTP, the cap under concurrent offers from
two intake replicas, redelivered actions and the sweeper."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from s8_intake.app import build
from s8_intake.domain.compensation import decide, new_offer, offer_event
from s8_intake.service.compensation import CompensationDesk
from s8_intake.settings import IntakeSettings
from s8_shared import topics
from s8_shared.contracts import AgentProfile, utcnow
from s8_shared.contracts.actions import OfferCompensation
from s8_shared.contracts.assignments import AssignmentPayload, TicketAssigned, TicketReassigned
from s8_shared.contracts.compensation import COMPENSATION_EVENTS
from s8_shared.runtime import ServiceRuntime
from s8_testing.builders import make_inbound
from s8_testing.harness import TestStack, eventually

pytestmark = pytest.mark.integration

# The shipped limits: L1 may grant 500,000 VND per offer and 1,000,000 VND per day.
AGENTS = [
    AgentProfile(agent_id="agent-1", name="Nguyễn Văn An", tier="L1"),
    AgentProfile(agent_id="lead-1", name="Trần Thị Bình", tier="L2", lead=True),
    AgentProfile(agent_id="agent-2", name="Lê Minh Châu", tier="L2"),
]


@dataclass
class Intake:
    runtime: ServiceRuntime
    desk: CompensationDesk
    http: httpx.AsyncClient
    stack: TestStack

    async def ticket(self, n: int = 1) -> str:
        message = make_inbound(channel_message_id=f"<m{n}@example.vn>", subject=f"Đơn #{n}")
        response = await self.http.post("/v1/inbound/email", json=message)
        assert response.status_code == 202, response.text
        ticket_id: str = response.json()["ticket_id"]
        return ticket_id

    async def offer(self, ticket_id: str, action_id: str, amount: int, **fields: Any) -> Any:
        body = {
            "action_id": action_id,
            "actor_id": "agent-1",
            "compensation": "voucher",
            "amount": amount,
            **fields,
        }
        return await self.http.post(f"/v1/tickets/{ticket_id}/compensations", json=body)

    async def events(self) -> list[Any]:
        return await self.stack.read_all(topics.TICKETS, COMPENSATION_EVENTS)

    def db(self) -> Any:
        return self.stack.db(self.runtime.settings)

    def metric(self, name: str, **labels: str) -> float:
        return self.runtime.registry.get_sample_value(name, labels) or 0.0


@contextlib.asynccontextmanager
async def running_intake(stack: TestStack, settings: IntakeSettings) -> AsyncIterator[Intake]:
    runtime, app = build(settings)
    await runtime.start()
    try:
        async with stack.client(app, "http://intake") as http:
            yield Intake(runtime, app.state.compensation, http, stack)
    finally:
        await runtime.stop()


async def publish_agents(stack: TestStack, *profiles: AgentProfile) -> None:
    for profile in profiles:
        await stack.send(
            topics.AGENTS, profile.model_dump_json().encode(), key=profile.agent_id.encode()
        )


async def known_agents(intake: Intake, count: int) -> None:
    async def loaded() -> bool:
        return bool(await intake.db().agent_directory.count_documents({}) >= count)

    await eventually(loaded, what=f"{count} agent profiles in intake's directory")


@pytest.fixture
async def intake(stack: TestStack) -> AsyncIterator[Intake]:
    async with running_intake(stack, stack.settings(IntakeSettings)) as running:
        await publish_agents(stack, *AGENTS)
        await known_agents(running, len(AGENTS))
        yield running


async def test_an_offer_within_the_limit_is_granted_at_once_and_recorded_on_the_ticket(
    intake: Intake,
) -> None:
    ticket_id = await intake.ticket()
    response = await intake.offer(ticket_id, "o-1", 200_000, reason="giao hàng trễ 3 ngày")
    assert response.status_code == 201, response.text
    offer = response.json()
    assert (offer["status"], offer["agent_tier"], offer["period"]) == (
        "granted",
        "L1",
        (utcnow() + timedelta(hours=7)).date().isoformat(),
    )
    again = await intake.offer(ticket_id, "o-1", 200_000, reason="giao hàng trễ 3 ngày")
    assert (again.status_code, again.json()["offer_id"]) == (200, "o-1")

    listed = await intake.http.get(f"/v1/tickets/{ticket_id}/compensations")
    assert [(o["offer_id"], o["status"]) for o in listed.json()] == [("o-1", "granted")]
    on_ticket = (await intake.http.get(f"/v1/tickets/{ticket_id}")).json()["compensations"]
    assert [(o["offer_id"], o["amount"], o["status"]) for o in on_ticket] == [
        ("o-1", 200_000, "granted")
    ]
    [event] = await intake.events()
    assert (event.type, event.payload.offer.offer_id, event.partition_key()) == (
        "compensation.granted",
        "o-1",
        ticket_id.encode(),
    )
    assert (
        intake.metric("s8_intake_compensation_amount_vnd_total", kind="voucher", status="granted")
        == 200_000
    )
    totals = (await intake.http.get("/v1/agents/agent-1/compensation")).json()
    assert (totals["used"], totals["cap"], totals["remaining"]) == (200_000, 1_000_000, 800_000)


async def test_above_the_limit_a_lead_approves_over_http_with_an_audit_trail(
    intake: Intake,
) -> None:
    ticket_id = await intake.ticket()
    pending = (await intake.offer(ticket_id, "o-big", 900_000, compensation="refund")).json()
    assert pending["status"] == "pending_approval"
    assert "above the per-offer limit of tier L1" in pending["status_reason"]
    queue = (await intake.http.get("/v1/approvals")).json()
    assert [o["offer_id"] for o in queue] == ["o-big"]

    by_agent = await intake.http.post(
        "/v1/approvals/o-big", json={"approver_id": "agent-2", "decision": "approve"}
    )
    assert (by_agent.status_code, by_agent.json()["detail"]) == (
        403,
        "agent-2 is not a known lead",
    )
    approved = await intake.http.post(
        "/v1/approvals/o-big",
        json={"approver_id": "lead-1", "decision": "approve", "reason": "khách VIP"},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    repeated = await intake.http.post(
        "/v1/approvals/o-big", json={"approver_id": "lead-1", "decision": "approve"}
    )
    assert (repeated.status_code, repeated.json()["decided_at"]) == (
        200,
        approved.json()["decided_at"],
    )
    reversed_ = await intake.http.post(
        "/v1/approvals/o-big", json={"approver_id": "lead-1", "decision": "reject"}
    )
    assert reversed_.status_code == 409
    assert "already approved by lead-1" in reversed_.json()["detail"]

    trail = (await intake.http.get("/v1/approvals/o-big")).json()["audit"]
    assert [(a["actor_id"], a["action"]) for a in trail] == [
        ("agent-1", "offered"),
        ("s8-intake", "approval_requested"),
        ("lead-1", "approved"),
    ]
    events = await intake.events()
    assert [(e.type, e.payload.offer.status) for e in events] == [
        ("compensation.approval_requested", "pending_approval"),
        ("compensation.granted", "approved"),
    ]
    assert (await intake.http.get("/v1/approvals")).json() == []
    # Approved beyond the agent's own limits, it still counts in their day's total.
    totals = (await intake.http.get("/v1/agents/agent-1/compensation")).json()
    assert (totals["used"], [o["offer_id"] for o in totals["offers"]]) == (900_000, ["o-big"])


async def test_an_unknown_agents_offer_waits_for_a_lead_and_a_rejection_is_published(
    intake: Intake,
) -> None:
    ticket_id = await intake.ticket()
    offer = (await intake.offer(ticket_id, "o-x", 10_000, actor_id="stranger")).json()
    assert (offer["status"], offer["status_reason"]) == (
        "pending_approval",
        "unknown agent: every offer needs a lead's approval",
    )
    rejected = await intake.http.post(
        "/v1/approvals/o-x", json={"approver_id": "lead-1", "decision": "reject"}
    )
    assert rejected.json()["status"] == "rejected"
    assert [e.type for e in await intake.events()][-1] == "compensation.rejected"


async def test_concurrent_offers_racing_the_cap_on_two_replicas_grant_only_what_fits(
    stack: TestStack,
) -> None:
    settings = stack.settings(IntakeSettings)
    async with running_intake(stack, settings) as one, running_intake(stack, settings) as two:
        await publish_agents(stack, *AGENTS)
        await known_agents(one, len(AGENTS))
        ticket_id = await one.ticket()
        # 8 × 300,000 VND against a 1,000,000 VND day cap: exactly 3 fit.
        responses = await asyncio.gather(
            *((one if i % 2 else two).offer(ticket_id, f"race-{i}", 300_000) for i in range(8))
        )
        assert {r.status_code for r in responses} == {201}
        offers = [r.json() for r in responses]
        granted = [o for o in offers if o["status"] == "granted"]
        pending = [o for o in offers if o["status"] == "pending_approval"]
        assert (len(granted), len(pending)) == (3, 5)
        assert all("would exceed the period cap" in o["status_reason"] for o in pending)
        [ledger] = await one.db().compensation_ledgers.find({"agent_id": "agent-1"}).to_list(None)
        assert ledger["total"] == 900_000 <= 1_000_000
        assert sorted(ledger["offers"]) == sorted(o["offer_id"] for o in granted)


async def test_the_same_action_redelivered_on_the_topic_is_applied_once(intake: Intake) -> None:
    ticket_id = await intake.ticket()
    action = OfferCompensation(
        action_id="o-topic",
        ticket_id=ticket_id,
        actor_id="agent-1",
        compensation="refund",
        amount=400_000,
    )
    for _ in range(3):
        await intake.stack.send(
            topics.ACTIONS, action.model_dump_json().encode(), key=ticket_id.encode()
        )

    async def all_three_handled() -> bool:
        applied = intake.metric(
            "s8_events_processed_total",
            service="s8-intake",
            topic=intake.stack.topic(topics.ACTIONS),
            type="offer_compensation",
            outcome="applied",
        )
        return applied == 3

    await eventually(all_three_handled, what="three deliveries of the same action")
    offers = (await intake.http.get(f"/v1/tickets/{ticket_id}/compensations")).json()
    assert [(o["offer_id"], o["status"]) for o in offers] == [("o-topic", "granted")]
    assert [e.payload.offer.offer_id for e in await intake.events()] == ["o-topic"]
    ledger = await intake.db().compensation_ledgers.find_one({"agent_id": "agent-1"})
    assert (ledger["total"], ledger["offers"]) == (400_000, ["o-topic"])


async def test_an_offer_stored_before_a_crash_is_published_by_the_sweeper(intake: Intake) -> None:
    ticket_id = await intake.ticket()
    action = OfferCompensation(
        action_id="o-crash",
        ticket_id=ticket_id,
        actor_id="agent-2",
        compensation="voucher",
        amount=1,
    )
    agent = await intake.desk.agents.get("agent-2")
    now = utcnow()
    offer = new_offer(
        action,
        customer_id="C-1",
        agent=agent,
        decision=decide(intake.desk.limits, agent, 1, 0),
        period=intake.desk.limits.period_of(now),
        now=now,
    )
    # Stored with its event, then "crashed" before publishing.
    assert await intake.desk.store.insert(offer, [offer_event(offer)])
    assert await intake.desk.sweep() in (0, 1)  # the periodic sweeper may get there first
    [event] = await intake.events()
    assert event.event_id == offer_event(offer).event_id
    doc = await intake.db().compensation_offers.find_one({"_id": "o-crash"})
    assert (doc["has_outbox"], doc["outbox"]) == (False, [])


async def test_the_latest_agent_profile_wins_and_a_lead_can_be_promoted(intake: Intake) -> None:
    now = utcnow()
    newer = AgentProfile(
        agent_id="agent-2", name="Lê Minh Châu", tier="L3", lead=True, updated_at=now
    )
    stale = AgentProfile(
        agent_id="agent-2", name="Lê Minh Châu", tier="L1", updated_at=now - timedelta(hours=1)
    )
    await publish_agents(intake.stack, newer, stale)
    marker = AgentProfile(agent_id="agent-9", name="Marker", tier="L1")
    await publish_agents(intake.stack, marker)  # same partition order is not guaranteed: wait
    await known_agents(intake, len(AGENTS) + 1)

    async def promoted() -> bool:
        agent = await intake.desk.agents.get("agent-2")
        return agent is not None and agent.lead and agent.tier == "L3"

    await eventually(promoted, what="agent-2 promoted to an L3 lead")
    await intake.stack.caught_up(intake.runtime.settings, topics.AGENTS)  # the stale one too
    assert await promoted()
    ticket_id = await intake.ticket()
    await intake.offer(ticket_id, "o-p", 900_000)
    decided = await intake.http.post(
        "/v1/approvals/o-p", json={"approver_id": "agent-2", "decision": "approve"}
    )
    assert decided.json()["status"] == "approved"


async def test_a_lead_holding_the_ticket_cannot_approve_its_offer_until_it_moves_on(
    intake: Intake,
) -> None:
    ticket_id = await intake.ticket(7)
    pending = await intake.offer(ticket_id, "o-held", 900_000)  # above L1's per-offer limit
    assert pending.json()["status"] == "pending_approval", pending.text

    async def assign(agent: str | None, cls: Any, minute: int) -> None:
        event = cls(
            producer="s8-router", occurred_at=utcnow().replace(microsecond=0) + timedelta(minutes=minute),
            payload=AssignmentPayload(ticket_id=ticket_id, agent_id=agent, channel_kind="email", priority="normal", reason="least_loaded"),
        )  # fmt: skip
        await intake.stack.send(topics.ASSIGNMENTS, event.model_dump_json().encode(), key=ticket_id.encode())  # fmt: skip

    async def held_by(agent: str | None) -> bool:
        doc = await intake.db().ticket_holders.find_one({"_id": ticket_id})
        return doc is not None and doc["agent_id"] == agent

    await assign("lead-1", TicketAssigned, 1)
    await eventually(lambda: held_by("lead-1"), what="intake to see the lead holding the ticket")
    refused = await intake.http.post("/v1/approvals/o-held", json={"approver_id": "lead-1", "decision": "approve"})  # fmt: skip
    assert (refused.status_code, refused.json()["detail"]) == (403, "a lead cannot approve an offer on a ticket they hold")  # fmt: skip
    await assign("agent-2", TicketReassigned, 2)
    await assign("lead-1", TicketAssigned, 0)  # late: an older event changes nothing
    await intake.stack.caught_up(intake.runtime.settings, topics.ASSIGNMENTS)
    assert await held_by("agent-2")
    approved = await intake.http.post("/v1/approvals/o-held", json={"approver_id": "lead-1", "decision": "approve"})  # fmt: skip
    assert approved.status_code == 200, approved.text
