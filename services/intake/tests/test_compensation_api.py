"""The compensation API without servers: the desk on in-memory fakes, every refusal's
status and reason."""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from s8_intake.adapters.compensation_store import Ledger
from s8_intake.adapters.data_files import load_limits
from s8_intake.adapters.outbox import OutboxItem, outbox_item
from s8_intake.api_compensation import router
from s8_intake.domain.compensation import Agent
from s8_intake.service.compensation import CompensationDesk, CompensationMetrics
from s8_intake.settings import IntakeSettings
from s8_shared.contracts import Event
from s8_shared.contracts.compensation import CompensationOffer, OfferStatus
from s8_shared.pagination import PageRequest, page_of_list
from s8_shared.topics import TopicSpec
from s8_testing.builders import T0
from s8_testing.intake_builders import make_new_ticket
from s8_testing.tokens import LocalIssuer


@dataclass
class FakeStore:
    offers: dict[str, CompensationOffer] = field(default_factory=dict)
    outboxes: dict[str, list[OutboxItem]] = field(default_factory=dict)
    ledgers: dict[tuple[str, str], Ledger] = field(default_factory=dict)

    async def get(self, offer_id: str) -> CompensationOffer | None:
        return self.offers.get(offer_id)

    async def insert(self, offer: CompensationOffer, events: Sequence[Event[Any]]) -> bool:
        if offer.offer_id in self.offers:
            return False
        self.offers[offer.offer_id] = offer
        self.outboxes[offer.offer_id] = [outbox_item(e) for e in events]
        return True

    async def decide(
        self, offer: CompensationOffer, expected: OfferStatus, events: Sequence[Event[Any]]
    ) -> bool:
        if self.offers[offer.offer_id].status != expected:
            return False
        self.offers[offer.offer_id] = offer
        self.outboxes[offer.offer_id] += [outbox_item(e) for e in events]
        return True

    async def for_ticket(self, ticket_id: str) -> list[CompensationOffer]:
        return [o for o in self.offers.values() if o.ticket_id == ticket_id]

    async def with_status(self, status: OfferStatus, limit: int = 200) -> list[CompensationOffer]:
        return [o for o in self.offers.values() if o.status == status][:limit]

    async def page(
        self, query: dict[str, str], page: PageRequest
    ) -> tuple[list[CompensationOffer], str | None]:
        found = [o for o in self.offers.values() if all(getattr(o, k) == v for k, v in query.items())]  # fmt: skip
        return page_of_list(found, lambda o: o.offer_id, page)

    async def many(self, offer_ids: Sequence[str]) -> list[CompensationOffer]:
        return [self.offers[i] for i in offer_ids if i in self.offers]

    async def outbox(self, offer_id: str) -> list[OutboxItem]:
        return list(self.outboxes.get(offer_id, []))

    async def remove_from_outbox(self, offer_id: str, event_ids: Sequence[str]) -> None:
        self.outboxes[offer_id] = [
            i for i in self.outboxes[offer_id] if i.event_id not in event_ids
        ]

    async def with_outbox(self, limit: int = 100) -> list[str]:
        return [k for k, v in self.outboxes.items() if v][:limit]

    async def ledger(self, agent_id: str, period: str) -> Ledger:
        return self.ledgers.get((agent_id, period), Ledger(agent_id, period, 0, ()))

    async def reserve(
        self, agent_id: str, period: str, offer_id: str, amount: int, cap: int
    ) -> bool:
        ledger = await self.ledger(agent_id, period)
        if offer_id in ledger.offer_ids:
            return True
        if ledger.total + amount > cap:
            return False
        await self.add(agent_id, period, offer_id, amount)
        return True

    async def add(self, agent_id: str, period: str, offer_id: str, amount: int) -> None:
        ledger = await self.ledger(agent_id, period)
        if offer_id not in ledger.offer_ids:
            self.ledgers[(agent_id, period)] = Ledger(
                agent_id, period, ledger.total + amount, (*ledger.offer_ids, offer_id)
            )


@dataclass
class FakeAgents:
    known: dict[str, Agent]

    async def get(self, agent_id: str) -> Agent | None:
        return self.known.get(agent_id)


@dataclass
class RecordingPublisher:
    sent: list[bytes] = field(default_factory=list)

    async def publish_raw(
        self,
        spec: TopicSpec,
        value: bytes,
        *,
        key: bytes | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.sent.append(value)


class FakeTickets:
    async def load(self, ticket_id: str) -> Any:
        state = make_new_ticket().state
        return (state, frozenset()) if ticket_id == state.snapshot.ticket_id else None


ROLES = {"agent-1": ("agent",), "agent-2": ("agent", "lead"), "lead-1": ("agent", "lead")}


@dataclass
class FakeHolders:
    held: dict[str, str] = field(default_factory=dict)

    async def holder(self, ticket_id: str) -> str | None:
        return self.held.get(ticket_id)


@dataclass
class Api:
    http: httpx.AsyncClient
    publisher: RecordingPublisher
    store: FakeStore
    issuer: LocalIssuer
    holders: FakeHolders

    def as_(self, actor: str) -> dict[str, str]:
        return self.issuer.headers(actor, *ROLES[actor])

    async def offer(
        self, amount: int, action_id: str = "o-1", by: str = "agent-1", **fields: Any
    ) -> httpx.Response:
        body = {"action_id": action_id, "compensation": "refund", "amount": amount, **fields}
        return await self.http.post(
            "/v1/tickets/T-1/compensations", json=body, headers=self.as_(by)
        )

    async def approve(self, offer_id: str, by: str = "lead-1", **body: Any) -> httpx.Response:
        return await self.http.post(f"/v1/approvals/{offer_id}", json=body, headers=self.as_(by))


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    publisher = RecordingPublisher()
    store = FakeStore()
    desk = CompensationDesk(
        limits=load_limits(),
        store=store,
        agents=FakeAgents(
            {
                "agent-1": Agent("agent-1", "L1"),
                "lead-1": Agent("lead-1", "L2", lead=True),
                "agent-2": Agent("agent-2", "L2"),
            }
        ),
        publisher=publisher,
        metrics=CompensationMetrics(CollectorRegistry()),
        clock=lambda: T0,
        holders=(holders := FakeHolders()),
    )
    app = FastAPI()
    app.include_router(router)
    app.state.intake = SimpleNamespace(compensation=desk, tickets=FakeTickets())
    app.state.settings = IntakeSettings()
    issuer = LocalIssuer()
    async with issuer.client(app, "lead-1", "agent", "lead") as http:
        yield Api(http, publisher, store, issuer, holders)


async def test_an_offer_is_created_once_and_a_repeat_returns_it(api: Api) -> None:
    first = await api.offer(100_000)
    again = await api.offer(100_000)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert len(api.publisher.sent) == 1


@pytest.mark.parametrize(
    ("path", "body", "status", "detail"),
    [
        ("/v1/tickets/T-404/compensations", {}, 404, "no ticket T-404"),
        ("/v1/tickets/T-1/compensations", {"amount": 0}, 422, "greater than 0"),
        ("/v1/tickets/T-1/compensations", {"currency": "USD"}, 422, "'VND'"),
        ("/v1/tickets/T-1/compensations", {"compensation": "cash"}, 422, "'refund' or 'voucher'"),
        ("/v1/tickets/T-1/compensations", {"kind": "reply"}, 422, "Extra inputs"),
    ],
    ids=["unknown-ticket", "zero-amount", "other-currency", "unknown-kind", "extra-field"],
)
async def test_bad_offers_are_refused_with_a_reason(
    api: Api, path: str, body: dict[str, Any], status: int, detail: str
) -> None:
    valid = {"action_id": "o-1", "compensation": "refund", "amount": 1}
    response = await api.http.post(path, json={**valid, **body}, headers=api.as_("agent-1"))
    assert response.status_code == status
    assert detail in str(response.json()["detail"])


async def test_an_action_id_reused_for_another_ticket_is_a_conflict(api: Api) -> None:
    await api.offer(100_000, action_id="o-7")
    store = api.store
    store.offers["o-7"] = store.offers["o-7"].model_copy(update={"ticket_id": "T-2"})
    response = await api.offer(100_000, action_id="o-7")
    assert response.status_code == 409
    assert response.json()["detail"] == "action id o-7 was already used for ticket T-2"


@pytest.mark.parametrize(
    ("offer_amount", "decision", "status", "detail"),
    [
        (900_000, {"by": "agent-1", "decision": "approve"}, 403, "needs one of the roles lead"),
        (900_000, {"by": "agent-2", "decision": "approve"}, 403, "not a known lead"),
        (25_000_000, {"decision": "approve"}, 403, "approval limit"),
        (100_000, {"decision": "approve"}, 409, "nothing to decide"),
        (900_000, {"decision": "maybe"}, 422, "'approve' or 'reject'"),
        (900_000, {"approver_id": "agent-2", "decision": "approve"}, 403, "be the caller (lead-1)"),
    ],
    ids=["no-lead-role", "not-in-roster-as-lead", "above-leads-limit", "granted-offer",
         "bad-decision", "naming-another-approver"],
)  # fmt: skip
async def test_refused_approvals_say_why(
    api: Api, offer_amount: int, decision: dict[str, Any], status: int, detail: str
) -> None:
    await api.offer(offer_amount)
    response = await api.approve("o-1", **decision)
    assert response.status_code == status
    assert detail in str(response.json()["detail"])


async def test_a_decision_on_an_unknown_offer_is_404_and_a_reversal_is_409(api: Api) -> None:
    missing = await api.approve("nope", decision="approve")
    assert (missing.status_code, missing.json()["detail"]) == (404, "no compensation offer nope")
    assert (await api.http.get("/v1/approvals/nope")).status_code == 404
    await api.offer(900_000)
    assert (await api.approve("o-1", approver_id="lead-1", decision="reject")).status_code == 200
    again = await api.approve("o-1", decision="reject")
    reversal = await api.approve("o-1", decision="approve")
    assert again.status_code == 200
    assert (reversal.status_code, reversal.json()["detail"]) == (
        409,
        "offer o-1 was already rejected by lead-1",
    )


async def test_totals_show_used_cap_and_remaining_and_check_the_period(api: Api) -> None:
    await api.offer(300_000)
    totals = await api.http.get("/v1/agents/agent-1/compensation")
    assert {k: totals.json()[k] for k in ("period", "used", "cap", "remaining")} == {
        "period": "2026-11-25",
        "used": 300_000,
        "cap": 1_000_000,
        "remaining": 700_000,
    }
    other_day = await api.http.get("/v1/agents/agent-1/compensation?period=2026-11-24")
    assert other_day.json()["used"] == 0
    bad = await api.http.get("/v1/agents/agent-1/compensation?period=yesterday")
    assert bad.status_code == 422


async def test_the_api_needs_a_valid_bearer_token(api: Api) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer not-a-jwt"}):
        response = await api.http.get("/v1/approvals", headers=headers)
        assert response.status_code == 401, headers


async def test_a_token_that_is_not_ascii_is_refused_not_an_error(api: Api) -> None:
    response = await api.http.get(
        "/v1/approvals", headers={b"Authorization": "Bearer khóa-bí-mật".encode()}
    )
    assert response.status_code == 401


async def test_an_offer_is_made_by_the_caller_and_naming_another_agent_is_refused(api: Api) -> None:
    forged = await api.offer(100_000, by="agent-1", actor_id="lead-1")
    assert forged.status_code == 403
    assert "actor_id must be left out or be the caller (agent-1)" in forged.json()["detail"]
    made = await api.offer(100_000, by="agent-1", actor_id="agent-1")
    assert (made.status_code, made.json()["agent_id"]) == (201, "agent-1")


async def test_a_lead_cannot_approve_their_own_offer(api: Api) -> None:
    await api.offer(3_000_000, by="lead-1")  # above L2 per offer: pending
    own = await api.approve("o-1", by="lead-1", decision="approve")
    assert (own.status_code, own.json()["detail"]) == (403, "a lead cannot approve their own offer")
    other = await api.approve("o-1", by="agent-2", decision="approve")
    assert other.status_code == 403  # agent-2 has the role, not the roster's lead flag


async def test_an_agent_reads_only_their_own_totals(api: Api) -> None:
    theirs = await api.http.get("/v1/agents/agent-2/compensation", headers=api.as_("agent-1"))
    own = await api.http.get("/v1/agents/agent-1/compensation", headers=api.as_("agent-1"))
    assert (theirs.status_code, own.status_code) == (403, 200)


async def test_a_lead_cannot_approve_an_offer_on_a_ticket_they_hold(api: Api) -> None:
    await api.offer(900_000, by="agent-1")  # above L1's per-offer limit: pending
    api.holders.held["T-1"] = "lead-1"  # the router assigned T-1 to the lead
    held = await api.approve("o-1", by="lead-1", decision="approve")
    assert (held.status_code, held.json()["detail"]) == (403, "a lead cannot approve an offer on a ticket they hold")  # fmt: skip
    api.holders.held["T-1"] = "agent-1"
    assert (await api.approve("o-1", by="lead-1", decision="approve")).status_code == 200
