"""The agents' desk on the real broker, store and provider: a customer's e-mail becomes a
ticket in the assigned agent's "mine" view, ordered and explained, and the agent's live
stream (Server-Sent Events over a real HTTP server) tells them it was assigned and that
the customer answered, resumable after a reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator
from typing import Any

import httpx
import pytest

from s8_desk.app import build as build_desk
from s8_desk.settings import DeskSettings
from s8_intake.app import build as build_intake
from s8_intake.settings import IntakeSettings
from s8_router.app import build as build_router
from s8_router.settings import RouterSettings
from s8_shared import topics
from s8_shared.contracts import ASSIGNMENT_EVENTS, OUTBOUND_EVENTS, AgentProfile
from s8_sla_monitor.app import build as build_sla
from s8_sla_monitor.settings import SlaMonitorSettings
from s8_testing.builders import make_inbound
from s8_testing.harness import TestStack, eventually, serving, started

pytestmark = pytest.mark.integration

AGENT = AgentProfile.model_validate(
    {"agent_id": "agent-1", "name": "Agent One", "team": "billing", "tier": "L2", "skills": {"billing": 4, "warranty": 3, "shipping": 3},
     "languages": ["vi", "en"], "capacity": {"chat": 2, "email": 3, "phone": 1, "on_site": 0},
     "presence": "online"}
)  # fmt: skip
LEAD = AgentProfile.model_validate(
    {"agent_id": "lead-1", "name": "Lead One", "team": "billing", "tier": "L3", "lead": True}
)


async def notices(
    client: httpx.AsyncClient, headers: dict[str, str], n: int
) -> AsyncGenerator[dict[str, Any], None]:
    """The first `n` notices of the stream, each with the `id` it was sent with."""
    async with client.stream("GET", "/v1/stream", headers=headers, timeout=60) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        event: dict[str, Any] = {}
        async for line in reply.aiter_lines():
            if line.startswith("id: "):
                event["id"] = line[4:]
            elif line.startswith("data: "):
                event.update(json.loads(line[6:]))
            elif not line and "id" in event:
                yield event
                event, n = {}, n - 1
                if n == 0:
                    return


async def test_a_ticket_reaches_the_agents_view_and_live_stream_and_a_reconnect_loses_nothing(
    stack: TestStack,
) -> None:
    intake_settings = stack.settings(IntakeSettings)
    intake, intake_app = build_intake(intake_settings)
    router_settings = stack.settings(RouterSettings)
    router, router_app = build_router(router_settings)
    async with contextlib.AsyncExitStack() as running:
        intake_url = await running.enter_async_context(serving(intake_app))
        router_url = await running.enter_async_context(serving(router_app))
        desk_settings = stack.settings(
            DeskSettings, stream_poll_seconds=0.1, intake_url=intake_url, router_url=router_url
        )
        desk, desk_app = build_desk(desk_settings)
        for runtime in (intake, router, build_sla(stack.settings(SlaMonitorSettings))[0], desk):
            await running.enter_async_context(started(runtime))
        base = await running.enter_async_context(serving(desk_app))
        client = await running.enter_async_context(httpx.AsyncClient(base_url=base, timeout=30))
        me = await stack.tokens.headers_for("agent-1")

        await stack.send(topics.AGENTS, AGENT.model_dump_json().encode(), key=b"agent-1")
        await stack.send(topics.AGENTS, LEAD.model_dump_json().encode(), key=b"lead-1")
        await stack.caught_up(intake_settings, topics.AGENTS)
        await stack.caught_up(router_settings, topics.AGENTS)
        await stack.caught_up(desk_settings, topics.AGENTS)
        listening = notices(client, me, 2)
        first = asyncio.ensure_future(anext(listening))

        async def stream_open() -> bool:
            return bool(desk_app.state.hub.connections() == 1)

        await eventually(stream_open, what="the agent's stream open")
        await stack.send(topics.INBOUND, json.dumps(make_inbound(), ensure_ascii=False).encode(), key=b"email:lan")  # fmt: skip
        assigned = await asyncio.wait_for(first, 60)
        assert assigned["kind"] in ("assigned", "offered")
        ticket_id = assigned["ticket_id"]
        decisions = await stack.read_all(topics.ASSIGNMENTS, ASSIGNMENT_EVENTS)
        assert assigned["event_id"] in {str(e.event_id) for e in decisions}  # what caused it

        async def mine() -> list[dict[str, Any]]:
            reply = await client.get("/v1/tickets", params={"view": "mine"}, headers=me)
            assert reply.status_code == 200
            return [t for t in reply.json() if t["sla"] == "running"]

        [card] = await eventually(mine, what="the ticket in mine, its first response clock running")
        assert (card["ticket_id"], card["agent_id"], card["team"]) == (
            ticket_id,
            "agent-1",
            "billing",
        )
        counts = (await client.get("/v1/views", headers=me)).json()
        assert {c["view"]: c["count"] for c in counts}["mine"] == 1

        # The customer writes again (a reply to the first mail): the agent hears it live.
        follow_up = make_inbound(channel_message_id="<m2@example.vn>", in_reply_to="<m1@example.vn>", text="Đã 10 ngày rồi, tôi cần tiền gấp.")  # fmt: skip
        await stack.send(topics.INBOUND, json.dumps(follow_up, ensure_ascii=False).encode(), key=b"email:lan")  # fmt: skip
        answered = await asyncio.wait_for(anext(listening), 60)
        assert (answered["kind"], answered["ticket_id"]) == ("customer_answered", ticket_id)
        await listening.aclose()

        # Reconnecting after the first notice sends the second again, and only it.
        resumed = notices(client, {**me, "Last-Event-ID": assigned["id"]}, 1)
        again = await asyncio.wait_for(anext(resumed), 30)
        assert (again["id"], again["kind"]) == (answered["id"], "customer_answered")
        await resumed.aclose()

        # Search without the accents of the subject "Hoàn tiền đơn #A1023".
        found = (await client.get("/v1/search", params={"q": "hoan tien a1023"}, headers=me)).json()
        assert [t["ticket_id"] for t in found] == [ticket_id]
        detail = (await client.get(f"/v1/tickets/{ticket_id}", headers=me)).json()
        assert [m["text"] for m in detail["conversation"]][
            -1
        ] == "Đã 10 ngày rồi, tôi cần tiền gấp."
        assert len(detail["conversation"]) == 2
        assert detail["routing"][0]["agent_id"] == "agent-1"
        assert detail["routing"][0]["reason"]
        assert detail["customer"]["open_tickets"] == 1

        # A lead writes a canned reply; the agent fills it in for this ticket.
        lead = await stack.tokens.headers_for("lead-1")
        body = {"language": "vi", "title": "Hoàn tiền", "text": "Chào {{customer_name}}, {{agent_name}} đã nhận {{ticket_id}}."}  # fmt: skip
        assert (await client.put("/v1/canned/refund", json=body, headers=me)).status_code == 403
        assert (await client.put("/v1/canned/refund", json=body, headers=lead)).status_code == 200
        filled = (await client.get(f"/v1/tickets/{ticket_id}/canned/refund", headers=me)).json()
        assert filled["text"] == f"Chào Nguyễn Thị Lan, Agent One đã nhận {ticket_id}."

        # Who the desk knows is signed in: the presence the router published, for the switch.
        known = (await client.get("/v1/me", headers=me)).json()
        assert (known["agent_id"], known["team"], known["presence"]) == ("agent-1", "billing", "online")  # fmt: skip
        assert "agent" in known["roles"]

        # A refund above an L2 agent's limit waits in the leads' approvals view until decided.
        offer = {"kind": "offer_compensation", "action_id": "o1", "compensation": "refund", "amount": 3_000_000}  # fmt: skip
        offered = await client.post(f"/v1/tickets/{ticket_id}/actions", json=offer, headers=me)
        assert offered.status_code == 200, offered.text

        async def awaiting_a_lead() -> list[str]:
            listed = await client.get("/v1/tickets", params={"view": "approvals"}, headers=lead)
            return [t["ticket_id"] for t in listed.json()]

        assert await eventually(awaiting_a_lead, what="the offer in the approvals view") == [ticket_id]  # fmt: skip
        counts = (await client.get("/v1/views", headers=lead)).json()
        assert {c["view"]: c["count"] for c in counts}["approvals"] == 1
        waiting = (await client.get("/v1/approvals", headers=lead)).json()
        assert [(o["offer_id"], o["agent_id"], o["amount"], o["status"]) for o in waiting] == [("o1", "agent-1", 3_000_000, "pending_approval")]  # fmt: skip
        assert (await client.get("/v1/approvals", headers=me)).status_code == 403  # leads only
        decided = await client.post("/v1/approvals/o1", json={"decision": "approve"}, headers=lead)
        assert decided.status_code == 200, decided.text

        async def none_awaiting() -> bool:
            return await awaiting_a_lead() == []

        await eventually(none_awaiting, what="the approved offer gone from the approvals view")

        # The agent answers and solves it through the desk, as themselves.
        forged = {"kind": "note", "action_id": "n1", "text": "x", "actor_id": "agent-7"}
        reply = await client.post(f"/v1/tickets/{ticket_id}/actions", json=forged, headers=me)
        assert reply.status_code == 403  # intake: nobody acts as someone else
        answer = {"kind": "reply", "action_id": "r1", "text": "Chúng tôi đã hoàn tiền hôm nay."}
        reply = await client.post(f"/v1/tickets/{ticket_id}/actions", json=answer, headers=me)
        assert reply.status_code == 200, reply.text
        solve = {"kind": "set_status", "action_id": "s1", "status": "solved"}
        assert (await client.post(f"/v1/tickets/{ticket_id}/actions", json=solve, headers=me)).status_code == 200  # fmt: skip

        async def replied() -> list[Any]:
            sent = await stack.read_all(topics.OUTBOUND, OUTBOUND_EVENTS)
            return [e for e in sent if e.payload.ticket_id == ticket_id and "hoàn tiền hôm nay" in e.payload.text]  # fmt: skip

        await eventually(replied, what="the reply on support.outbound.v1")

        async def first_response_met() -> bool:
            got = (await client.get(f"/v1/tickets/{ticket_id}", headers=me)).json()
            states = {c["target"]: c["state"] for c in got["clocks"]}
            return got["ticket"]["status"] == "solved" and states.get("first_response") == "met"

        await eventually(first_response_met, what="solved, the first response clock met")

        # Nobody else's view: another agent's "mine" is empty; no token, no answer.
        other = await stack.tokens.headers_for("agent-7")
        assert (
            await client.get("/v1/tickets", params={"view": "mine"}, headers=other)
        ).json() == []
        assert (await client.get("/v1/tickets")).status_code == 401
