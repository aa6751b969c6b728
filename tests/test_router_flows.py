"""The router on the real broker and store: two replicas, a burst against a small roster,
queueing, placement when an agent comes online, release, and escalation."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from s8_router.app import build
from s8_router.service import RouterService
from s8_router.settings import RouterSettings
from s8_shared import topics
from s8_shared.contracts import ASSIGNMENT_EVENTS, AgentProfile, Event, utcnow
from s8_shared.contracts.sla import SlaPayload, SlaWarning
from s8_shared.contracts.tickets import TicketTransferred, TicketTransferredPayload
from s8_testing.builders import make_snapshot, make_ticket_created
from s8_testing.harness import TestStack, eventually, free_port

pytestmark = pytest.mark.integration


def agent(
    agent_id: str, *, presence: str = "online", tier: str = "L1", email: int = 2, **extra: Any
) -> AgentProfile:
    fields: dict[str, Any] = {
        "agent_id": agent_id,
        "name": agent_id.title(),
        "tier": tier,
        "skills": {"billing": 4, "shipping": 3},
        "languages": ["vi", "en"],
        "capacity": {"chat": 2, "email": email, "phone": 1, "on_site": 0},
        "presence": presence,
    }
    fields.update(extra)
    return AgentProfile.model_validate(fields)


async def send_agent(stack: TestStack, profile: AgentProfile) -> None:
    await stack.send(
        topics.AGENTS, profile.model_dump_json().encode(), key=profile.agent_id.encode()
    )


async def send_ticket(stack: TestStack, ticket_id: str, **snapshot: Any) -> None:
    fields = {
        "ticket_id": ticket_id,
        "customer_id": f"C-{ticket_id}",
        "required_skills": ["billing"],
        **snapshot,
    }
    event = make_ticket_created(**fields).model_copy(update={"occurred_at": utcnow()})
    await stack.send(topics.TICKETS, event.to_bytes(), key=ticket_id.encode())


async def decisions(stack: TestStack) -> list[Event[Any]]:
    return await stack.read_all(topics.ASSIGNMENTS, ASSIGNMENT_EVENTS)


def start_router(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "s8_router"],
        env={**os.environ, **env, "S8_HTTP_PORT": str(free_port()), "S8_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_two_router_replicas_never_over_assign_and_place_queued_tickets_when_an_agent_comes_online(
    stack: TestStack,
) -> None:
    settings = stack.settings(RouterSettings, drain_every_seconds=1.0)
    replicas = [start_router(stack.env(settings)) for _ in range(2)]
    try:
        for name in ("an", "binh", "chi"):
            await send_agent(stack, agent(name))
        await send_agent(stack, agent("dung", presence="offline", email=4))
        await stack.caught_up(settings, topics.AGENTS)
        n = 24
        await asyncio.gather(*(send_ticket(stack, f"T-burst-{i:02d}") for i in range(n)))

        async def first_decisions() -> dict[str, str]:
            first: dict[str, str] = {}
            for event in await decisions(stack):
                first.setdefault(event.payload.ticket_id, event.type)
            return first if len(first) == n else {}

        first = await eventually(first_decisions, within=60, what="a decision for every ticket")
        assert Counter(first.values()) == {"ticket.assigned": 6, "ticket.queued": n - 6}
        events = await decisions(stack)
        assigned = Counter(e.payload.agent_id for e in events if e.type == "ticket.assigned")
        assert all(count <= 2 for count in assigned.values()), assigned
        assert (
            len([e for e in events if e.type == "ticket.queued"]) == n - 6
        )  # queued exactly once each

        await send_agent(stack, agent("dung", presence="online", email=4))

        async def dung_took_four() -> bool:
            return (
                sum(
                    1
                    for e in await decisions(stack)
                    if e.type == "ticket.assigned" and e.payload.agent_id == "dung"
                )
                == 4
            )

        await eventually(
            dung_took_four, within=30, what="queued tickets placed on the agent who came online"
        )
        db = stack.db(settings)
        async for doc in db.agents.find({}):
            for kind, active in doc["active"].items():
                assert active <= doc["profile"]["capacity"].get(kind, 0), doc
                assert doc["free"][kind] >= 0, doc
    finally:
        for proc in replicas:
            proc.send_signal(signal.SIGTERM)
        for proc in replicas:
            proc.wait(timeout=30)


async def test_solving_releases_capacity_and_the_next_ticket_in_line_is_placed(
    stack: TestStack,
) -> None:
    settings = stack.settings(RouterSettings)
    async with stack.running(build, settings):
        await send_agent(stack, agent("an", email=1, tier="L2"))  # urgent tickets need L2
        await stack.caught_up(settings, topics.AGENTS)
        await send_ticket(stack, "T-a", priority="low")

        async def a_assigned() -> bool:
            return any(
                e.type == "ticket.assigned" and e.payload.ticket_id == "T-a"
                for e in await decisions(stack)
            )

        await eventually(a_assigned, what="the first ticket to take the only slot")
        await send_ticket(stack, "T-b", priority="normal")
        await send_ticket(stack, "T-c", priority="urgent")

        async def both_queued() -> bool:
            return len([e for e in await decisions(stack) if e.type == "ticket.queued"]) == 2

        await eventually(both_queued, what="the other two to queue")
        solved = make_ticket_created(
            ticket_id="T-a", customer_id="C-T-a", status="solved", version=3
        )
        await stack.send(topics.TICKETS, solved.to_bytes(), key=b"T-a")

        async def urgent_placed() -> bool:
            return any(
                e.type == "ticket.assigned" and e.payload.ticket_id == "T-c"
                for e in await decisions(stack)
            )

        await eventually(urgent_placed, what="the urgent ticket to get the freed slot first")
        assert not any(
            e.type == "ticket.assigned" and e.payload.ticket_id == "T-b"
            for e in await decisions(stack)
        )


async def test_an_sla_warning_moves_the_ticket_up_a_tier(stack: TestStack) -> None:
    settings = stack.settings(RouterSettings)
    async with stack.running(build, settings):
        await send_agent(stack, agent("l1-an", tier="L1"))
        await send_agent(stack, agent("l2-binh", tier="L2"))
        await stack.caught_up(settings, topics.AGENTS)
        await send_ticket(stack, "T-esc")

        async def assigned_to_l1() -> bool:
            return any(
                e.type == "ticket.assigned" and e.payload.agent_id == "l1-an"
                for e in await decisions(stack)
            )

        # Both are eligible for an L1 ticket; least loaded then agent id picks l1-an.
        await eventually(assigned_to_l1, what="first assignment")
        warning = SlaWarning(
            producer="s8-test",
            payload=SlaPayload(
                ticket_id="T-esc",
                policy_id="p",
                target="first_response",
                clock_id="T-esc/first_response/1",
                priority="normal",
                channel="email",
                calendar_id="24x7",
                target_seconds=60,
                elapsed_business_seconds=50,
                elapsed_calendar_seconds=50,
                remaining_business_seconds=10,
            ),
        )
        await stack.send(topics.SLA, warning.to_bytes(), key=b"T-esc")

        async def escalated() -> list[Event[Any]]:
            return [e for e in await decisions(stack) if e.type == "ticket.escalated"]

        [event] = await eventually(escalated, what="the escalation")
        assert (event.payload.agent_id, event.payload.previous_agent_id, event.payload.tier) == (
            "l2-binh",
            "l1-an",
            "L2",
        )
        assert event.payload.reason == "sla_warning"


async def test_an_agent_going_offline_hands_back_unanswered_tickets(stack: TestStack) -> None:
    settings = stack.settings(RouterSettings)
    async with stack.running(build, settings):
        await send_agent(stack, agent("an"))
        await stack.caught_up(settings, topics.AGENTS)
        await send_ticket(stack, "T-off")

        async def assigned() -> bool:
            return any(e.type == "ticket.assigned" for e in await decisions(stack))

        await eventually(assigned, what="assignment")
        await send_agent(stack, agent("an", presence="offline"))
        await send_agent(stack, agent("binh"))

        async def moved() -> list[str]:
            return [e.type for e in await decisions(stack)]

        types = await eventually(
            lambda: _when(
                moved, lambda t: "ticket.unassigned" in t and t.count("ticket.assigned") == 2
            ),
            what="unassigned then reassigned",
        )
        assert types.count("ticket.unassigned") == 1


async def _when(get: Any, ok: Any) -> Any:
    value = await get()
    return value if ok(value) else None


def _json(data: Any) -> bytes:
    return json.dumps(data).encode()


async def test_an_offer_not_accepted_in_time_moves_to_the_next_agent(
    stack: TestStack, tmp_path: Path
) -> None:
    policy = tmp_path / "routing.yaml"
    policy.write_text("version: 1\nacceptance_timeout_seconds: 3\n", encoding="utf-8")
    settings = stack.settings(RouterSettings, policy_path=policy)
    runtime, app = build(settings)
    service: RouterService = app.state.router
    await runtime.start()
    try:
        await send_agent(stack, agent("an"))
        await stack.caught_up(settings, topics.AGENTS)
        await send_ticket(stack, "T-offer")

        async def offered_to_an() -> bool:
            return any(
                e.type == "ticket.assigned" and e.payload.agent_id == "an"
                for e in await decisions(stack)
            )

        await eventually(offered_to_an, what="the offer to an")
        await send_agent(stack, agent("binh"))

        async def moved_on() -> list[Event[Any]]:
            found = await decisions(stack)
            return (
                found
                if any(
                    e.payload.agent_id == "binh" and e.type == "ticket.reassigned" for e in found
                )
                else []
            )

        events = await eventually(moved_on, within=20, what="the offer to move to binh")
        assert any(
            e.type == "ticket.unassigned" and e.payload.reason == "acceptance_timeout"
            for e in events
        )
        assert await service.accept("T-offer", "binh")
        record = await service.routing.get("T-offer")
        assert record is not None
        assert record.state == "assigned"
        assert not await service.accept("T-offer", "an")
    finally:
        await runtime.stop()


async def test_a_transfer_to_a_tier_re_routes_to_an_agent_of_that_tier(stack: TestStack) -> None:
    settings = stack.settings(RouterSettings)
    async with stack.running(build, settings):
        await send_agent(stack, agent("l1-an", tier="L1"))
        await stack.caught_up(settings, topics.AGENTS)
        await send_ticket(stack, "T-tr")

        async def assigned() -> bool:
            return any(e.type == "ticket.assigned" for e in await decisions(stack))

        await eventually(assigned, what="first assignment")
        await send_agent(stack, agent("l3-ha", tier="L3"))
        await stack.caught_up(settings, topics.AGENTS)  # the router knows l3-ha before the transfer
        transferred = TicketTransferred(
            producer="s8-test",
            payload=TicketTransferredPayload(
                ticket_id="T-tr",
                ticket=make_snapshot(
                    ticket_id="T-tr",
                    customer_id="C-T-tr",
                    required_skills=["billing"],
                    status="open",
                    version=3,
                    tier_required="L3",
                ),
                to_tier="L3",
                reason="needs a specialist",
            ),
        )
        await stack.send(topics.TICKETS, transferred.to_bytes(), key=b"T-tr")

        async def to_l3() -> list[Event[Any]]:
            return [e for e in await decisions(stack) if e.payload.agent_id == "l3-ha"]

        [event] = await eventually(to_l3, what="the ticket at L3")
        assert (event.type, event.payload.previous_agent_id, event.payload.tier) == (
            "ticket.reassigned",
            "l1-an",
            "L3",
        )


async def test_the_roster_loads_and_queues_are_readable_over_http(stack: TestStack) -> None:
    runtime, app = build(stack.settings(RouterSettings))
    await runtime.start()
    try:
        async with stack.client(app, "http://router") as http:
            put = await http.put(
                "/v1/agents/lan", json=agent("lan", presence="offline").model_dump(mode="json")
            )
            assert put.status_code == 200, put.text
            mismatch = await http.put("/v1/agents/x", json=agent("lan").model_dump(mode="json"))
            assert mismatch.status_code == 422
            bad = await http.put(
                "/v1/agents/lan",
                json={**agent("lan").model_dump(mode="json"), "skills": {"billing": 9}},
            )
            assert bad.status_code == 422
            await send_ticket(stack, "T-q", priority="high")

            async def queued() -> dict[str, Any]:
                body: dict[str, Any] = (await http.get("/v1/queues")).json()
                return body if body["tickets"] else {}

            queue = await eventually(queued, what="the queued ticket")
            assert queue["waiting_by_priority"]["high"] == 1
            assert queue["tickets"][0]["why_waiting"] == {"lan": "offline"}

            online = await http.put("/v1/agents/lan/presence", json={"presence": "online"})
            assert online.json()["presence"] == "online"

            async def holds() -> list[str]:
                tickets: list[str] = (await http.get("/v1/agents/lan/load")).json()["tickets"]
                return tickets

            assert await eventually(holds, what="lan to hold the ticket") == ["T-q"]
            load = (await http.get("/v1/agents/lan/load")).json()
            assert load["active"]["email"] == 1
            assert 0 < load["occupancy"] < 1
            assert [a["agent_id"] for a in (await http.get("/v1/agents")).json()] == ["lan"]
            assert (await http.get("/v1/agents/nobody/load")).status_code == 404
            metrics = (await http.get("/metrics")).text
            assert "s8_router_decisions_total" in metrics
            assert "s8_router_assignment_latency_seconds_bucket" in metrics
    finally:
        await runtime.stop()


async def test_the_roster_is_read_page_by_page_following_the_next_link(stack: TestStack) -> None:
    runtime, app = build(stack.settings(RouterSettings))
    await runtime.start()
    try:
        async with stack.client(app, "http://router") as http:
            names = [f"agent-{n:02d}" for n in range(7)]
            for name in reversed(names):
                put = await http.put(f"/v1/agents/{name}", json=agent(name).model_dump(mode="json"))
                assert put.status_code == 200, put.text
            seen: list[str] = []
            url: str | None = "/v1/agents?limit=3"
            pages = 0
            while url is not None:
                page = await http.get(url)
                assert page.status_code == 200, page.text
                assert len(page.json()) <= 3
                seen += [a["agent_id"] for a in page.json()]
                url = page.links.get("next", {}).get("url")
                pages += 1
            assert (seen, pages) == (names, 3)
            assert (await http.get("/v1/agents?limit=500")).status_code == 422  # above the maximum
            assert (await http.get("/v1/agents?cursor=%%%")).status_code == 400
    finally:
        await runtime.stop()


async def test_the_queue_is_read_page_by_page_in_serving_order(stack: TestStack) -> None:
    runtime, app = build(stack.settings(RouterSettings))
    await runtime.start()
    try:
        async with stack.client(app, "http://router") as http:
            # Nobody online: every ticket waits.
            for n, priority in enumerate(("normal", "high", "normal", "high", "normal")):
                await send_ticket(stack, f"T-page-{n}", priority=priority)

            async def all_queued() -> dict[str, Any]:
                body: dict[str, Any] = (await http.get("/v1/queues?limit=2")).json()
                return body if sum(body["waiting_by_priority"].values()) == 5 else {}

            first = await eventually(all_queued, what="five queued tickets")
            assert first["waiting_by_priority"] == {"urgent": 0, "high": 2, "normal": 3, "low": 0}
            assert first["by_state"] == {"new": 0, "queued": 5, "offered": 0, "assigned": 0}
            seen: list[tuple[str, str]] = []
            url: str | None = "/v1/queues?limit=2"
            pages = 0
            while url is not None:
                page = await http.get(url)
                assert page.status_code == 200, page.text
                assert len(page.json()["tickets"]) <= 2
                seen += [(t["priority"], t["ticket_id"]) for t in page.json()["tickets"]]
                url = page.links.get("next", {}).get("url")
                pages += 1
            assert pages == 3
            assert sorted(t for _, t in seen) == [f"T-page-{n}" for n in range(5)]
            assert [p for p, _ in seen] == ["high", "high", "normal", "normal", "normal"]
            assert (await http.get("/v1/queues?limit=201")).status_code == 422
            assert (await http.get("/v1/queues?cursor=%%%")).status_code == 400
    finally:
        await runtime.stop()


class ClaimsWhileRead:
    """The agents collection, with another replica claiming a slot right after the first
    read of an agent (the window between reading the load and writing the profile)."""

    def __init__(self, col: Any, agent_id: str) -> None:
        self.col, self.agent_id, self.done = col, agent_id, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.col, name)

    async def find_one(self, *args: Any, **kwargs: Any) -> Any:
        found = await self.col.find_one(*args, **kwargs)
        if not self.done:
            self.done = True
            await self.col.update_one(
                {"_id": self.agent_id}, {"$inc": {"free.email": -1, "active.email": 1}}
            )
        return found


async def test_a_profile_change_never_overwrites_a_claim_made_while_it_was_written(
    stack: TestStack,
) -> None:
    settings = stack.settings(RouterSettings)
    _, app = build(settings)
    service: RouterService = app.state.router
    await service.agents.upsert_profile(agent("lan", email=3))
    service.agents.col = ClaimsWhileRead(service.agents.col, "lan")  # type: ignore[assignment]
    await service.agents.upsert_profile(agent("lan", email=3, presence="away"))
    doc = await stack.db(settings).agents.find_one({"_id": "lan"})
    assert doc is not None
    assert (doc["active"]["email"], doc["free"]["email"]) == (1, 2)  # 1 + 2 = capacity 3
    assert doc["presence"] == "away"


async def test_the_reconciler_repairs_a_leaked_slot_and_announces_a_decision_left_unpublished(
    stack: TestStack,
) -> None:
    settings = stack.settings(RouterSettings, reconcile_every_seconds=3600)
    runtime, app = build(settings)
    reconciler = app.state.reconciler
    db = stack.db(settings)
    await runtime.start()
    try:
        await send_agent(stack, agent("lan", email=3))
        await stack.caught_up(settings, topics.AGENTS)
        await send_ticket(stack, "T-held")

        async def assigned() -> list[Event[Any]]:
            return [e for e in await decisions(stack) if e.type == "ticket.assigned"]

        await eventually(assigned, what="the ticket assigned to lan")
        # A crash between a claim and its routing record: two slots taken that no record holds.
        await db.agents.update_one({"_id": "lan"}, {"$set": {"active.email": 3, "free.email": 0}})
        # A crash between storing a new decision and publishing it.
        await db.routing.update_one(
            {"_id": "T-held"},
            {"$inc": {"seq": 1}, "$set": {"announce_pending": True, "event_type": "ticket.reassigned", "previous_agent_id": "lan"}},
        )  # fmt: skip
        await reconciler.run()  # seen once: maybe a claim in flight, not repaired yet
        lan = await db.agents.find_one({"_id": "lan"})
        assert lan is not None
        assert (lan["active"]["email"], lan["free"]["email"]) == (3, 0)
        # A claim and a release between two looks leave the same numbers: still not repaired.
        await db.agents.update_one({"_id": "lan"}, {"$inc": {"slot_changes": 2}})
        await reconciler.run()
        lan = await db.agents.find_one({"_id": "lan"})
        assert lan is not None
        assert (lan["active"]["email"], lan["free"]["email"]) == (3, 0)
        await reconciler.run()
        lan = await db.agents.find_one({"_id": "lan"})
        assert lan is not None
        assert (lan["active"]["email"], lan["free"]["email"]) == (1, 2)  # what the records hold

        async def reannounced() -> list[Event[Any]]:
            return [e for e in await decisions(stack) if e.type == "ticket.reassigned"]

        [event] = await eventually(reannounced, what="the unpublished decision announced")
        assert event.payload.ticket_id == "T-held"
        record = await db.routing.find_one({"_id": "T-held"})
        assert record is not None
        assert record["announce_pending"] is False
        assert await reconciler.run() == 0  # nothing left to put right
    finally:
        await runtime.stop()


async def test_the_reconciler_marks_a_decision_the_ticket_moved_on_from_without_publishing_it(
    stack: TestStack,
) -> None:
    settings = stack.settings(RouterSettings, reconcile_every_seconds=3600)
    runtime, app = build(settings)
    reconciler = app.state.reconciler
    db = stack.db(settings)
    await runtime.start()
    try:
        await send_agent(stack, agent("lan", email=3))
        await stack.caught_up(settings, topics.AGENTS)
        await send_ticket(stack, "T-gone")

        async def assigned() -> list[Event[Any]]:
            return [e for e in await decisions(stack) if e.type == "ticket.assigned"]

        await eventually(assigned, what="the ticket assigned to lan")
        # A decision stored but not published, then the ticket solved (its agent released):
        # announced now, it would say that nobody holds a ticket that was "reassigned".
        await db.routing.update_one(
            {"_id": "T-gone"},
            {"$inc": {"seq": 1}, "$set": {"announce_pending": True, "event_type": "ticket.reassigned", "state": "solved", "agent_id": None}},
        )  # fmt: skip
        assert await reconciler.run() == 1
        record = await db.routing.find_one({"_id": "T-gone"})
        assert record is not None
        assert (record["announce_pending"], record["announced_seq"]) == (False, record["seq"])
        assert [e.type for e in await decisions(stack)] == ["ticket.assigned"]
    finally:
        await runtime.stop()


async def test_an_agent_declines_their_offer_over_http_and_it_moves_on_to_another_agent(
    stack: TestStack, tmp_path: Path
) -> None:
    policy = tmp_path / "routing.yaml"
    policy.write_text("version: 1\nacceptance_timeout_seconds: 600\n", encoding="utf-8")
    settings = stack.settings(RouterSettings, policy_path=policy)
    runtime, app = build(settings)
    await runtime.start()
    try:
        await send_agent(stack, agent("agent-1"))
        await stack.caught_up(settings, topics.AGENTS)
        await send_ticket(stack, "T-decline")

        async def offered() -> bool:
            return any(e.payload.agent_id == "agent-1" for e in await decisions(stack))

        await eventually(offered, what="the offer to agent-1")
        await send_agent(stack, agent("agent-7"))
        await stack.caught_up(settings, topics.AGENTS)
        url = "/v1/assignments/T-decline/decline"
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as http:  # fmt: skip
            assert (await http.post(url)).status_code == 401
            analyst = await stack.tokens.headers_for("thao")
            assert (await http.post(url, headers=analyst)).status_code == 403
            other = await stack.tokens.headers_for("agent-7")
            assert (await http.post(url, headers=other)).status_code == 409  # not their offer
            mine = await stack.tokens.headers_for("agent-1")
            reply = await http.post(url, headers=mine)
            assert reply.status_code == 200, reply.text
            assert reply.json() == {"ticket_id": "T-decline", "agent_id": "agent-1", "declined": True}  # fmt: skip
            assert (await http.post(url, headers=mine)).status_code == 409  # declined once

        async def moved_on() -> list[Event[Any]]:
            found = await decisions(stack)
            return found if any(e.payload.agent_id == "agent-7" for e in found) else []

        events = await eventually(moved_on, what="the offer to move to agent-7")
        assert [e.payload.reason for e in events if e.type == "ticket.unassigned"] == ["declined"]
        record = await app.state.router.routing.get("T-decline")
        assert record is not None
        assert "agent-1" in record.excluded
    finally:
        await runtime.stop()
