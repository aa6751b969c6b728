"""Desk HTTP: views with counts, search, a ticket's detail and each agent's live stream.
Every route acts for the signed-in agent (the token's actor), never for one the caller names."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from sse_starlette import EventSourceResponse, ServerSentEvent

from s8_desk.stream import Hub
from s8_desk.views import DeskViews, Filters, TicketNotFound, View
from s8_shared.contracts import Channel, Priority, TicketStatus
from s8_shared.contracts.compensation import CompensationOffer
from s8_shared.contracts.desk import DeskMe, DeskTicket, TicketDetail, ViewCount
from s8_shared.identity import Principal
from s8_shared.identity.http import require
from s8_shared.pagination import PageRequest, link_next, page_params

api = APIRouter(prefix="/v1", tags=["desk"])
Staff = Annotated[Principal, require("agent", "lead", "admin")]
Leads = Annotated[Principal, require("lead")]
TicketId = Annotated[str, Path(pattern=r"^T-[0-9A-Za-z-]{1,64}$")]
PING_SECONDS = 15
# A seq is an 8-byte integer in the store: ASCII digits only ("²" is a digit to str.isdigit).
MAX_SEQ = 2**63 - 1
SEQ = re.compile(r"[0-9]{1,18}")


def get_views(request: Request) -> DeskViews:
    views: DeskViews = request.app.state.views
    return views


def get_hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


ViewsDep = Annotated[DeskViews, Depends(get_views)]
HubDep = Annotated[Hub, Depends(get_hub)]
Page = Annotated[PageRequest, Depends(page_params)]


@api.get("/me", response_model=DeskMe, summary="Who is signed in: roles, team, presence")
async def me(views: ViewsDep, who: Staff) -> DeskMe:
    return await views.me(who.actor_id, who.roles)


@api.get("/views", response_model=list[ViewCount], summary="The signed-in agent's view counts")
async def view_counts(views: ViewsDep, who: Staff) -> list[ViewCount]:
    return await views.counts(who.actor_id)


@api.get(
    "/tickets",
    response_model=list[DeskTicket],
    summary="A view's tickets, breached first, then warned, then by SLA time left",
)
async def list_tickets(
    views: ViewsDep,
    who: Staff,
    request: Request,
    response: Response,
    page: Page,
    view: Annotated[
        View, Query(description="mine, team, unassigned (queued too), sla, approvals, open, all")
    ] = "mine",
    status: TicketStatus | None = None,
    channel: Channel | None = None,
    priority: Priority | None = None,
    customer_id: Annotated[str | None, Query(max_length=128)] = None,
) -> list[DeskTicket]:
    filters = Filters(
        status=status.value if status else None,
        channel=channel.value if channel else None,
        priority=priority.value if priority else None,
        customer_id=customer_id,
    )
    tickets, more = await views.view(view, who.actor_id, filters, page)
    link_next(request, response, more)
    return tickets


@api.get(
    "/approvals",
    response_model=list[CompensationOffer],
    summary="Compensation offers awaiting a lead (a page of tickets at a time), oldest first",
)
async def pending_approvals(
    views: ViewsDep, who: Leads, request: Request, response: Response, page: Page
) -> list[CompensationOffer]:
    offers, more = await views.approvals(page)
    link_next(request, response, more)
    return offers


@api.get(
    "/search",
    response_model=list[DeskTicket],
    summary="Tickets by words (Vietnamese with or without accents), ticket id, e-mail or phone",
)
async def search(
    views: ViewsDep,
    who: Staff,
    request: Request,
    response: Response,
    page: Page,
    q: Annotated[str, Query(max_length=200, description="Empty: nothing.")] = "",
) -> list[DeskTicket]:
    tickets, more = await views.search(q, page)
    link_next(request, response, more)
    return tickets


@api.get(
    "/tickets/{ticket_id}",
    response_model=TicketDetail,
    summary="A ticket with its conversation, customer, SLA clocks, routing and compensation",
)
async def ticket_detail(ticket_id: TicketId, views: ViewsDep, who: Staff) -> TicketDetail:
    try:
        return await views.detail(ticket_id)
    except TicketNotFound:
        raise HTTPException(404, f"no ticket {ticket_id}") from None


@api.get(
    "/stream",
    summary="The signed-in agent's live notices (Server-Sent Events, resumable)",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "`Notice` events"}},
)
async def stream(
    hub: HubDep,
    who: Staff,
    last_event_id: Annotated[str | None, Header(max_length=20)] = None,
    after: Annotated[
        int | None,
        Query(ge=0, le=MAX_SEQ, description="As Last-Event-ID, for clients without headers"),
    ] = None,
) -> EventSourceResponse:
    """Assigned or offered to you (with the acceptance deadline), the customer answered on
    your ticket, an SLA warning or breach on your ticket, an approval needed (leads), a
    ticket transferred away. Each event's id is its `seq`: reconnecting with
    `Last-Event-ID` sends what came in between, once."""
    if last_event_id is not None and not SEQ.fullmatch(last_event_id):
        raise HTTPException(400, "Last-Event-ID must be a seq this stream sent")
    resume = int(last_event_id) if last_event_id is not None else after

    async def events() -> AsyncIterator[ServerSentEvent]:
        async for notice in hub.follow(who.actor_id, resume):
            yield ServerSentEvent(data=notice.model_dump_json(), id=str(notice.seq), event=notice.kind)  # fmt: skip

    return EventSourceResponse(events(), ping=PING_SECONDS)
