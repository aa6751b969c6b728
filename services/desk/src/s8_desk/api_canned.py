"""Canned replies per language, kept by the desk: leads and admins write them, agents fill
one in for the ticket they answer (the reply box then sends it as a reply)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response

from s8_desk.adapters.canned_store import CannedStore
from s8_desk.api import Staff, TicketId, ViewsDep
from s8_desk.domain.canned import UnknownPlaceholder, check, render
from s8_desk.views import TicketNotFound
from s8_shared.contracts import Language, utcnow
from s8_shared.contracts.desk import CannedReply, CannedReplyBody, RenderedReply
from s8_shared.identity import Principal
from s8_shared.identity.http import require

canned = APIRouter(prefix="/v1", tags=["canned replies"])
Editors = Annotated[Principal, require("lead", "admin")]
CannedId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


def get_canned(request: Request) -> CannedStore:
    store: CannedStore = request.app.state.canned
    return store


CannedDep = Annotated[CannedStore, Depends(get_canned)]


@canned.get("/canned", response_model=list[CannedReply], summary="Canned replies of a language")
async def list_canned(store: CannedDep, who: Staff, language: Language = Language.VI) -> list[CannedReply]:  # fmt: skip
    return await store.of_language(language.value)


@canned.put(
    "/canned/{canned_id}",
    response_model=CannedReply,
    summary="Write a canned reply (leads and admins)",
    responses={422: {"description": "an unknown placeholder"}},
)
async def put_canned(
    canned_id: CannedId, body: CannedReplyBody, store: CannedDep, who: Editors
) -> CannedReply:
    try:
        check(body.text)
    except UnknownPlaceholder as exc:
        raise HTTPException(422, str(exc)) from None
    return await store.put(canned_id, body, who.actor_id, utcnow())


@canned.delete("/canned/{canned_id}", status_code=204, summary="Remove a canned reply")
async def delete_canned(canned_id: CannedId, store: CannedDep, who: Editors) -> Response:
    if not await store.delete(canned_id):
        raise HTTPException(404, f"no canned reply {canned_id}")
    return Response(status_code=204)


@canned.get(
    "/tickets/{ticket_id}/canned/{canned_id}",
    response_model=RenderedReply,
    summary="A canned reply filled in for a ticket and the signed-in agent",
)
async def render_canned(
    ticket_id: TicketId, canned_id: CannedId, store: CannedDep, views: ViewsDep, who: Staff
) -> RenderedReply:
    reply = await store.get(canned_id)
    if reply is None:
        raise HTTPException(404, f"no canned reply {canned_id}")
    try:
        ticket = (await views.detail(ticket_id)).ticket
    except TicketNotFound:
        raise HTTPException(404, f"no ticket {ticket_id}") from None
    values = {
        "customer_name": ticket.customer_name,
        "ticket_id": ticket.ticket_id,
        "agent_name": await views.name_of(who.actor_id),
        "subject": ticket.subject,
    }
    return RenderedReply(canned_id=canned_id, ticket_id=ticket_id, text=render(reply.text, values))
