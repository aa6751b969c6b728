"""What an agent reads: views with counts, search and a ticket's detail, every list ordered
by what the SLA clocks say (breached, then warned, then by time left)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from s8_desk.domain.search import digits, query_terms
from s8_desk.ports import DeskReads
from s8_shared.contracts import MessageInfo
from s8_shared.contracts.compensation import CompensationOffer
from s8_shared.contracts.desk import (
    CustomerSummary,
    DeskClock,
    DeskMe,
    DeskTicket,
    RoutingExplained,
    TicketDetail,
    ViewCount,
)
from s8_shared.mongo import Document
from s8_shared.pagination import PageRequest

View = Literal["mine", "team", "unassigned", "sla", "approvals", "open", "all"]
COUNTED: tuple[View, ...] = ("mine", "team", "unassigned", "sla", "approvals")
TICKET_ID = re.compile(r"^T-[0-9A-Za-z-]{1,64}$")
PHONE = re.compile(r"^\+?[0-9 ().-]{8,20}$")
NOTHING: dict[str, Any] = {"_id": {"$in": []}}


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    channel: str | None = None
    priority: str | None = None
    customer_id: str | None = None


class TicketNotFound(LookupError):
    pass


class DeskViews:
    def __init__(self, store: DeskReads) -> None:
        self.store = store

    async def team_of(self, agent_id: str) -> str | None:
        agent = await self.store.agent(agent_id)
        return agent.get("team") if agent else None

    async def me(self, agent_id: str, roles: frozenset[str]) -> DeskMe:
        agent = await self.store.agent(agent_id) or {}
        return DeskMe(
            agent_id=agent_id,
            roles=sorted(roles),
            name=agent.get("name"),
            team=agent.get("team"),
            lead=bool(agent.get("lead")),
            presence=agent.get("presence"),
        )

    async def name_of(self, agent_id: str) -> str:
        agent = await self.store.agent(agent_id)
        return str(agent.get("name") or agent_id) if agent else agent_id

    def query(self, view: View, agent_id: str, team: str | None, filters: Filters) -> dict[str, Any]:  # fmt: skip
        """The view's tickets: open ones unless a status is asked for."""
        match view:
            case "mine":
                query: dict[str, Any] = {"agent_id": agent_id}
            case "team":
                if team is None:
                    return NOTHING
                query = {"team": team}
            case "unassigned":
                query = {"agent_id": None}
            case "sla":
                query = {"sla": {"$in": ["breached", "warned", "running"]}}
            case "approvals":  # offers awaiting a lead, on open and closed tickets alike
                query = {"pending_offers": {"$gt": ""}}
            case "open" | "all":
                query = {}
        if filters.status:
            query["status"] = filters.status
        elif view not in ("all", "approvals"):
            query["open"] = True
        else:
            query["version"] = {"$gt": 0}
        for field in ("channel", "priority", "customer_id"):
            if value := getattr(filters, field):
                query[field] = value
        return query

    async def view(
        self, view: View, agent_id: str, filters: Filters, page: PageRequest
    ) -> tuple[list[DeskTicket], str | None]:
        team = await self.team_of(agent_id) if view == "team" else None
        docs, more = await self.store.page_cards(self.query(view, agent_id, team, filters), page)
        return [ticket_of(d) for d in docs], more

    async def counts(self, agent_id: str) -> list[ViewCount]:
        team = await self.team_of(agent_id)
        return [
            ViewCount(
                view=v, count=await self.store.count_cards(self.query(v, agent_id, team, Filters()))
            )
            for v in COUNTED
        ]

    async def approvals(self, page: PageRequest) -> tuple[list[CompensationOffer], str | None]:
        """The offers awaiting a lead, a page of tickets at a time (a ticket may hold several)."""
        docs, more = await self.store.page_cards(self.query("approvals", "", None, Filters()), page)
        offers = [
            CompensationOffer.model_validate(offer)
            for doc in docs
            for offer in (doc.get("compensation") or {}).values()
            if offer["status"] == "pending_approval"
        ]
        return sorted(offers, key=lambda o: o.offered_at), more

    async def search(self, q: str, page: PageRequest) -> tuple[list[DeskTicket], str | None]:
        docs, more = await self.store.page_cards(search_query(q), page)
        return [ticket_of(d) for d in docs], more

    async def detail(self, ticket_id: str) -> TicketDetail:
        card = await self.store.card(ticket_id)
        if card is None or not card.get("version"):
            raise TicketNotFound(ticket_id)
        ticket = ticket_of(card)
        customer = await self.store.customer(ticket.customer_id)
        clocks = sorted((card.get("clocks") or {}).values(), key=lambda c: c["clock_id"])
        offers = sorted((card.get("compensation") or {}).values(), key=lambda o: o["offered_at"])
        return TicketDetail(
            ticket=ticket,
            conversation=[
                MessageInfo.model_validate(m) for m in await self.store.conversation(ticket_id)
            ],
            clocks=[DeskClock.model_validate(c) for c in clocks],
            routing=[RoutingExplained.model_validate(r) for r in card.get("routing") or []],
            compensation=[CompensationOffer.model_validate(o) for o in offers],
            customer=CustomerSummary(
                customer_id=ticket.customer_id,
                tickets=await self.store.count_cards(
                    {"customer_id": ticket.customer_id, "version": {"$gt": 0}}
                ),
                open_tickets=await self.store.count_cards(
                    {"customer_id": ticket.customer_id, "open": True}
                ),
                contacts=list(card.get("contacts") or []),
                last_csat=customer.get("last_csat") if customer else None,
            ),
        )


def search_query(q: str) -> dict[str, Any]:
    """A ticket id, an e-mail address, a phone number, or words (accents optional)."""
    q = q.strip()
    if TICKET_ID.match(q):
        return {"_id": q}
    if "@" in q and " " not in q:
        return {"contacts": {"$in": [q, q.lower()]}}
    if PHONE.match(q):
        national = digits(q)
        return {"contacts": {"$in": [q, national, "+84" + national[1:], "84" + national[1:]]}}
    words = query_terms(q)
    return {"terms": {"$all": words}} if words else NOTHING


def ticket_of(doc: Document) -> DeskTicket:
    return DeskTicket.model_validate({**doc, "ticket_id": doc["_id"]})
