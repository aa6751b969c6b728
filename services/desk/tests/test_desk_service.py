"""The desk's application service with an in-memory read model: who hears what, once, and
what a late or replayed event does to a ticket's card."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from s8_desk.domain.notices import Due
from s8_desk.service import DeskService
from s8_shared.contracts import (
    AgentProfile,
    AssignmentPayload,
    Author,
    MessageInfo,
    Priority,
    TicketMessageAdded,
    TicketSnapshot,
)
from s8_shared.contracts.assignments import TicketAssigned
from s8_shared.contracts.compensation import (
    CompensationApprovalRequested,
    CompensationOffer,
    CompensationPayload,
)
from s8_shared.contracts.desk import DeskClock, Notice, RoutingExplained
from s8_shared.contracts.sla import SlaBreached, SlaPayload
from s8_shared.contracts.tickets import TicketMessageAddedPayload
from s8_testing.builders import T0, make_snapshot, make_ticket_created


class Cards:
    """DeskRecords in memory, as the store behaves: newer snapshots only, one notice set
    per event id."""

    def __init__(self) -> None:
        self.cards: dict[str, dict[str, Any]] = {}
        self.agents: dict[str, AgentProfile] = {}
        self.notices: list[Notice] = []
        self.sources: set[str] = set()

    async def card(self, ticket_id: str) -> dict[str, Any] | None:
        return self.cards.get(ticket_id)

    async def apply_snapshot(self, snap: TicketSnapshot, fields: Mapping[str, Any], terms: Sequence[str]) -> dict[str, Any] | None:  # fmt: skip
        card = self.cards.setdefault(snap.ticket_id, {"version": 0, "terms": []})
        if card["version"] >= snap.version:
            return None
        before = dict(card) if card["version"] else None
        card.update(fields)
        card["terms"] = list(dict.fromkeys([*card["terms"], *terms]))
        return before

    async def add_terms(self, ticket_id: str, terms: Sequence[str]) -> None:
        card = self.cards[ticket_id]
        card["terms"] = list(dict.fromkeys([*card["terms"], *terms]))

    async def set_holder(self, ticket_id: str, fields: Mapping[str, Any], decision: RoutingExplained) -> dict[str, Any] | None:  # fmt: skip
        card = self.cards.setdefault(ticket_id, {"version": 0, "terms": []})
        before = dict(card)
        card.update(fields)
        return before

    async def set_clock(self, ticket_id: str, clock: DeskClock) -> dict[str, Any]:
        card = self.cards.setdefault(ticket_id, {"version": 0, "terms": []})
        card.setdefault("clocks", {})[clock.clock_id] = clock.model_dump(mode="json")
        return card

    async def set_fields(self, ticket_id: str, fields: Mapping[str, Any]) -> None:
        self.cards[ticket_id].update(fields)

    async def keep_offer(self, offer: CompensationOffer) -> None:
        self.cards.setdefault(offer.ticket_id, {}).setdefault("compensation", {})[offer.offer_id] = offer  # fmt: skip

    async def add_messages(self, ticket_id: str, messages: Sequence[MessageInfo]) -> None:
        return None

    async def keep_agent(self, profile: AgentProfile) -> None:
        self.agents[profile.agent_id] = profile

    async def leads(self, team: str | None) -> list[str]:
        return [a.agent_id for a in self.agents.values() if a.lead and team in (None, a.team)]

    async def keep_csat(self, customer_id: str, score: int, at: datetime) -> None:
        return None

    async def add_notices(self, source_id: str, due: Sequence[Due]) -> list[Notice]:
        if not due or source_id in self.sources:
            return []
        self.sources.add(source_id)
        made = [Notice(seq=len(self.notices) + i + 1, event_id=source_id, **vars(d)) for i, d in enumerate(due)]  # fmt: skip
        self.notices += made
        return made


def assigned_to(agent: str) -> TicketAssigned:
    return TicketAssigned(
        producer="s8-router",
        occurred_at=T0,
        payload=AssignmentPayload(
            ticket_id="T-1",
            agent_id=agent,
            channel_kind="email",
            priority=Priority.NORMAL,
            reason="least_loaded",
        ),
    )


def customer_says(text: str, version: int) -> TicketMessageAdded:
    message = MessageInfo(message_id=f"m{version}", author=Author.CUSTOMER, channel="email", text=text, sent_at=T0)  # fmt: skip
    snap = make_snapshot(version=version, status="open", subject="Hoá đơn tháng 11")
    return TicketMessageAdded(producer="s8-intake", occurred_at=T0, payload=TicketMessageAddedPayload(ticket_id="T-1", ticket=snap, message=message))  # fmt: skip


def approval_requested(offer_id: str, kind: str, amount: int) -> CompensationApprovalRequested:
    """Lan's offer on T-1, above her limits: it waits for a lead."""
    offer = CompensationOffer(
        offer_id=offer_id, ticket_id="T-1", customer_id="C-1", agent_id="lan", kind=kind,
        amount=amount, status="pending_approval", status_reason="above the agent's limits",
        period="2026-11-25", offered_at=T0,
    )  # fmt: skip
    payload = CompensationPayload(ticket_id="T-1", offer=offer)
    return CompensationApprovalRequested(producer="s8-intake", occurred_at=T0, payload=payload)


async def test_a_customer_answer_on_a_held_ticket_notifies_its_holder_once() -> None:
    cards = Cards()
    desk = DeskService(cards)
    await desk.on_ticket_event(make_ticket_created(subject="Hoá đơn tháng 11"))
    await desk.on_assignment(assigned_to("lan"))
    answer = customer_says("Tôi vẫn chưa nhận được", version=3)
    await desk.on_ticket_event(answer)
    await desk.on_ticket_event(answer)  # delivered again
    assert [(n.agent_id, n.kind) for n in cards.notices] == [("lan", "assigned"), ("lan", "customer_answered")]  # fmt: skip


async def test_a_late_snapshot_changes_nothing_but_its_words_are_still_found() -> None:
    cards = Cards()
    desk = DeskService(cards)
    await desk.on_ticket_event(customer_says("mới nhất", version=5))
    await desk.on_ticket_event(customer_says("đã chuyển khoản", version=4))
    card = cards.cards["T-1"]
    assert card["version"] == 5
    assert {"moi", "nhat", "chuyen", "khoan", "hoa", "don"} <= set(card["terms"])


async def test_an_approval_request_reaches_the_leads_of_the_tickets_team_only() -> None:
    cards = Cards()
    desk = DeskService(cards)
    for agent_id, team, lead in (("ha", "billing", True), ("khoa", "technical", True), ("lan", "billing", False)):  # fmt: skip
        await desk.on_agent(AgentProfile(agent_id=agent_id, name=agent_id, team=team, lead=lead))
    await desk.on_ticket_event(make_ticket_created(team="billing"))
    await desk.on_ticket_event(approval_requested("O-1", "refund", 900_000))
    assert [(n.agent_id, n.kind, n.detail) for n in cards.notices] == [("ha", "approval_needed", "O-1")]  # fmt: skip
    assert "O-1" in cards.cards["T-1"]["compensation"]


async def test_a_breach_puts_the_ticket_first_and_tells_its_holder() -> None:
    cards = Cards()
    desk = DeskService(cards)
    await desk.on_ticket_event(make_ticket_created())
    await desk.on_assignment(assigned_to("lan"))
    due = T0 + timedelta(minutes=15)
    clock = SlaPayload.model_validate(
        {"ticket_id": "T-1", "policy_id": "p", "target": "first_response", "clock_id": "T-1/first_response/1",
         "priority": "normal", "channel": "email", "calendar_id": "vn", "target_seconds": 900,
         "due_at": due, "elapsed_business_seconds": 901.0, "elapsed_calendar_seconds": 901.0,
         "remaining_business_seconds": -1.0}
    )  # fmt: skip
    await desk.on_sla(SlaBreached(producer="s8-sla-monitor", occurred_at=due, payload=clock))
    card = cards.cards["T-1"]
    assert (card["sla"], card["sla_order"]) == ("breached", f"0|{due.isoformat()}")
    assert (cards.notices[-1].agent_id, cards.notices[-1].kind, cards.notices[-1].deadline) == ("lan", "sla_breached", due)  # fmt: skip


async def test_an_approval_request_of_a_team_without_a_lead_reaches_every_lead() -> None:
    cards = Cards()
    desk = DeskService(cards)
    await desk.on_agent(AgentProfile(agent_id="ha", name="Hà", team="customer_care", lead=True))
    await desk.on_ticket_event(make_ticket_created(team="shipping"))
    await desk.on_ticket_event(approval_requested("O-2", "voucher", 500_000))
    assert [(n.agent_id, n.kind) for n in cards.notices] == [("ha", "approval_needed")]
