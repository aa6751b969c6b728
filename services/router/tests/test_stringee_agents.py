"""Stringee's agent-list callback on the router: a queue's waiting calls ring only the
agents the router's own rules let take a phone ticket, in the order `choose` ranks them,
and only for a caller holding the configured URL token."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from s8_router.app import build
from s8_router.domain.model import AgentState
from s8_router.domain.policy import RoutingPolicy, choose
from s8_router.domain.ringing import call_ticket, ring_order
from s8_router.domain.translators import agent_from_profile
from s8_router.settings import RouterSettings
from s8_shared.contracts import AgentProfile, Language, Presence

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
TOKEN = "q1w2e3r4-t5y6u7i8-o9p0a1s2-d3f4g5h6"
AGENTS = "/v1/channels/stringee/agents"
ONLINE = Presence.ONLINE


def profile(agent_id: str, **overrides: Any) -> AgentProfile:
    return AgentProfile.model_validate({"agent_id": agent_id, "name": agent_id.title(), "presence": ONLINE, **overrides})  # fmt: skip


@dataclass
class InMemoryAgents:
    """The agent store's roster: profiles with their live load."""

    agents: list[tuple[AgentProfile, dict[str, int], datetime | None]] = field(default_factory=list)
    reads: int = 0

    def add(self, p: AgentProfile, active: dict[str, int] | None = None, finished: datetime | None = None) -> None:  # fmt: skip
        self.agents.append((p, active or {}, finished))

    async def roster(self) -> list[AgentState]:
        self.reads += 1
        return [agent_from_profile(p, active, finished) for p, active, finished in self.agents]


@dataclass
class FakeRouterService:
    """What the callback reads from the router's service: its agents and its policy."""

    agents: InMemoryAgents
    policy: Callable[[], RoutingPolicy] = RoutingPolicy


def team() -> InMemoryAgents:
    agents = InMemoryAgents()
    agents.add(profile("giang", capacity={"phone": 2, "chat": 2}), {"phone": 1, "chat": 1})
    agents.add(profile("hoa"), finished=T0 - timedelta(hours=1))  # idle for an hour
    agents.add(profile("an"))  # never finished a ticket: idle longest
    agents.add(profile("binh"), {"phone": 1})  # on a call
    agents.add(profile("chi", presence=Presence.AWAY))
    agents.add(profile("dung", languages=[Language.EN]))  # no Vietnamese
    agents.add(profile("em", capacity={"chat": 3, "phone": 0}))  # takes no calls
    return agents


@pytest.fixture
async def router_app() -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = RouterSettings(mongo_uri="mongodb://127.0.0.1:1", stringee_url_token=TOKEN, stringee_answer_timeout_seconds=20)  # fmt: skip
    _, app = build(settings)  # its lifespan (Kafka, Mongo) never entered
    app.state.router = FakeRouterService(team())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://router") as http:  # fmt: skip
        yield app, http


def calls(*ids: str) -> dict[str, Any]:
    """Stringee's request for the calls waiting in a queue."""
    return {"queueId": "QU_1", "projectId": 246,
            "calls": [{"callId": i, "from": "84903123456", "to": "842873001234"} for i in ids]}  # fmt: skip


def ringing(answer: dict[str, Any]) -> dict[str, list[str]]:
    return {c["callId"]: [a["stringee_user_id"] for a in c["agents"]] for c in answer["calls"]}


async def test_a_waiting_call_rings_the_eligible_agents_least_loaded_and_longest_idle_first(
    router_app: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, http = router_app
    response = await http.post(AGENTS, params={"token": TOKEN}, json=calls("call-vn-1-A"))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["version"] == 2
    assert ringing(answer) == {"call-vn-1-A": ["an", "hoa", "giang"]}
    assert answer["calls"][0]["agents"][0] == {"stringee_user_id": "an", "routing_type": 1, "answer_timeout": 20}  # fmt: skip


async def test_calls_asked_about_together_do_not_all_ring_the_same_first_agent(
    router_app: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, http = router_app
    response = await http.post(AGENTS, params={"token": TOKEN}, json=calls("c1", "c2", "c3", "c4"))
    assert ringing(response.json()) == {
        "c1": ["an", "hoa", "giang"],
        "c2": ["hoa", "giang"],  # an's only phone slot went to c1
        "c3": ["giang"],
        "c4": [],  # nobody left: Stringee keeps the call waiting
    }


async def test_no_waiting_call_is_an_empty_answer(router_app: tuple[FastAPI, httpx.AsyncClient]) -> None:  # fmt: skip
    _, http = router_app
    response = await http.post(AGENTS, params={"token": TOKEN}, json={"queueId": "QU_1"})
    assert response.json() == {"version": 2, "calls": []}


@pytest.mark.parametrize(
    "params", [{}, {"token": ""}, {"token": TOKEN[:-1] + "X"}, {"token": TOKEN + "X"}]
)
async def test_a_caller_without_the_url_token_is_refused_before_anything_is_read(
    router_app: tuple[FastAPI, httpx.AsyncClient], params: dict[str, str]
) -> None:
    app, http = router_app
    for body in (calls("c1"), {}, [1]):  # a malformed body is refused for the token first
        assert (await http.post(AGENTS, params=params, json=body)).status_code == 401
    assert app.state.router.agents.reads == 0


async def test_the_callback_is_closed_while_no_token_is_configured() -> None:
    _, app = build(RouterSettings(mongo_uri="mongodb://127.0.0.1:1"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://router") as http:  # fmt: skip
        assert (await http.post(AGENTS, params={"token": "anything"}, json=calls("c1"))).status_code == 401  # fmt: skip
        assert (await http.post(AGENTS, json=calls("c1"))).status_code == 401


def test_the_openapi_document_declares_the_url_token() -> None:
    _, app = build(RouterSettings(mongo_uri="mongodb://127.0.0.1:1"))
    operation = app.openapi()["paths"][AGENTS]["post"]
    assert operation["security"] == [{"stringeeUrlToken": []}]
    assert "401" in operation["responses"]


@pytest.mark.parametrize("strategy", ["least_loaded", "round_robin"])
async def test_the_ring_order_starts_with_the_agent_choose_picks_and_holds_only_the_eligible(
    strategy: str,
) -> None:
    policy = RoutingPolicy(strategy=strategy)
    roster = await team().roster()
    ticket = call_ticket("c1", policy, T0, "vi")
    order = ring_order(ticket, roster, policy, T0, limit=20)
    decision = choose(ticket, roster, policy, T0)
    assert order[0].agent_id == decision.agent_id
    assert sorted(a.agent_id for a in order) == sorted(decision.eligible)
    assert ring_order(ticket, roster, policy, T0, limit=1) == order[:1]
