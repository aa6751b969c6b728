"""Desk HTTP writes: each one sent to the service that owns it, as the signed-in agent (their
own token), and answered with what that service said."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Path, Request
from fastapi.responses import JSONResponse

from s8_desk.adapters.owners import Answer, Owners
from s8_shared.contracts import Presence
from s8_shared.identity import Principal
from s8_shared.identity.http import require

writes = APIRouter(prefix="/v1", tags=["desk writes"])
Agents = Annotated[Principal, require("agent", "lead")]
Leads = Annotated[Principal, require("lead")]
TicketId = Annotated[str, Path(pattern=r"^T-[0-9A-Za-z-]{1,64}$")]
OfferId = Annotated[str, Path(min_length=1, max_length=128)]
ANSWERS: dict[int | str, dict[str, Any]] = {
    403: {"description": "the owning service refused this agent"},
    404: {"description": "no such ticket or offer"},
    409: {"description": "refused by the owner's rules, with the reason"},
    503: {"description": "the owning service did not answer"},
}


def get_owners(request: Request) -> Owners:
    owners: Owners = request.app.state.owners
    return owners


def token_of(request: Request) -> str:
    """The signed-in agent's token (already verified by the route's role check)."""
    return request.headers.get("Authorization", "").partition(" ")[2]


OwnersDep = Annotated[Owners, Depends(get_owners)]
Token = Annotated[str, Depends(token_of)]


def answered(answer: Answer) -> JSONResponse:
    return JSONResponse(answer.body, status_code=answer.status)


@writes.post(
    "/tickets/{ticket_id}/actions",
    summary="Reply, note, status, priority, transfer, merge, link a problem or offer "
    "compensation (intake's ticket actions, as the signed-in agent)",
    responses=ANSWERS,
)
async def act(
    ticket_id: TicketId,
    owners: OwnersDep,
    token: Token,
    who: Agents,
    action: Annotated[
        dict[str, Any],
        Body(
            description="A ticket action of intake, without `actor_id` (the token says who acts)."
        ),
    ],
) -> JSONResponse:
    return answered(await owners.intake("POST", f"/v1/tickets/{ticket_id}/actions", token, action))


@writes.post(
    "/approvals/{offer_id}",
    summary="A lead approves or rejects a pending compensation offer (intake)",
    responses=ANSWERS,
)
async def approve(
    offer_id: OfferId,
    owners: OwnersDep,
    token: Token,
    who: Leads,
    decision: Annotated[
        dict[str, Any], Body(description='{"decision": "approve" | "reject", "reason": …}')
    ],
) -> JSONResponse:
    # An offer id is any action id (up to 128 characters): one path segment, escaped.
    path = f"/v1/approvals/{quote(offer_id, safe='')}"
    return answered(await owners.intake("POST", path, token, decision))


@writes.put(
    "/me/presence", summary="The signed-in agent's presence (the router)", responses=ANSWERS
)
async def set_presence(
    owners: OwnersDep, token: Token, who: Agents, presence: Annotated[Presence, Body(embed=True)]
) -> JSONResponse:
    path = f"/v1/agents/{quote(who.actor_id, safe='')}/presence"
    return answered(await owners.router("PUT", path, token, {"presence": presence.value}))


@writes.post(
    "/offers/{ticket_id}/accept",
    summary="The signed-in agent accepts a ticket offered to them (the router)",
    responses=ANSWERS,
)
async def accept_offer(
    ticket_id: TicketId, owners: OwnersDep, token: Token, who: Agents
) -> JSONResponse:
    return answered(await owners.router("POST", f"/v1/assignments/{ticket_id}/accept", token))


@writes.post(
    "/offers/{ticket_id}/decline",
    summary="The signed-in agent declines a ticket offered to them (the router)",
    responses=ANSWERS,
)
async def decline_offer(
    ticket_id: TicketId, owners: OwnersDep, token: Token, who: Agents
) -> JSONResponse:
    return answered(await owners.router("POST", f"/v1/assignments/{ticket_id}/decline", token))
