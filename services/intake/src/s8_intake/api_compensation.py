"""Intake's compensation API: agents' offers on a ticket, leads' approvals, agents' totals.

Routes only translate HTTP into calls on the compensation desk; `http_errors` maps its
refusals to statuses, with the reason in `detail`.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Protocol

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from pydantic import AliasChoices, AwareDatetime, BaseModel, ConfigDict, Field

from s8_intake.domain.compensation import ApprovalRefused
from s8_intake.domain.status import TransitionRefused
from s8_intake.domain.ticket import TicketState
from s8_intake.http_errors import http_error
from s8_intake.service.compensation import CompensationDesk, OfferNotFound
from s8_shared.contracts.actions import OfferCompensation
from s8_shared.contracts.compensation import ApprovalDecision, CompensationOffer, OfferStatus
from s8_shared.identity import Principal
from s8_shared.identity.http import acting_as, require
from s8_shared.pagination import PageRequest, link_next, page_params

PERIOD = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Tickets(Protocol):
    async def load(self, ticket_id: str) -> tuple[TicketState, frozenset[str]] | None: ...


def get_desk(request: Request) -> CompensationDesk:
    desk: CompensationDesk = request.app.state.intake.compensation
    return desk


def get_tickets(request: Request) -> Tickets:
    tickets: Tickets = request.app.state.intake.tickets
    return tickets


DeskDep = Annotated[CompensationDesk, Depends(get_desk)]
PageDep = Annotated[PageRequest, Depends(page_params)]
TicketsDep = Annotated[Tickets, Depends(get_tickets)]
TicketId = Annotated[str, Path(min_length=1, max_length=64)]
router = APIRouter(prefix="/v1")
Lead = Annotated[Principal, require("lead")]
Staff = Annotated[Principal, require("agent", "lead")]


class OfferBody(BaseModel):
    """An `offer_compensation` action; the ticket comes from the URL."""

    model_config = ConfigDict(extra="forbid")

    action_id: str = Field(
        min_length=1, max_length=128, description="Unique per offer; a repeat returns it (200)."
    )
    actor_id: str | None = Field(
        default=None, max_length=128, description="Left out, or the caller: the offering agent."
    )
    client_at: AwareDatetime | None = Field(
        default=None,
        validation_alias=AliasChoices("client_at", "at"),
        description="When the caller says it offered (`at` is accepted too); kept only.",
    )
    compensation: Literal["refund", "voucher"]
    amount: int = Field(gt=0, le=10_000_000_000, description="In VND.")
    currency: Literal["VND"] = "VND"
    reason: str | None = Field(default=None, max_length=500)


@router.post(
    "/tickets/{ticket_id}/compensations",
    response_model=CompensationOffer,
    status_code=201,
    tags=["compensation"],
    summary="Offer a refund or voucher: granted at once within the agent's limits, else "
    "pending a lead's approval",
    responses={
        200: {"description": "this action id was offered before: the offer as it is now"},
        404: {"description": "no such ticket"},
        409: {"description": "the action id was used for another ticket"},
    },
)
async def post_compensation(
    ticket_id: TicketId,
    body: OfferBody,
    response: Response,
    desk: DeskDep,
    tickets: TicketsDep,
    agent: Annotated[Principal, require("agent")],
) -> CompensationOffer:
    """Offered by the caller, under the caller's own limits."""
    actor = acting_as(agent, body.actor_id, "actor_id")
    loaded = await tickets.load(ticket_id)
    if loaded is None:
        raise HTTPException(404, detail=f"no ticket {ticket_id}")
    action = OfferCompensation(ticket_id=ticket_id, **{**body.model_dump(), "actor_id": actor})
    try:
        offer, created = await desk.submit(action, loaded[0].snapshot)
    except TransitionRefused as exc:
        raise http_error(exc) from exc
    if not created:
        response.status_code = 200
    return offer


@router.get(
    "/tickets/{ticket_id}/compensations",
    response_model=list[CompensationOffer],
    tags=["compensation"],
    summary="Compensation offered on a ticket, oldest first, with audit trails",
)
async def list_ticket_compensations(
    ticket_id: TicketId,
    desk: DeskDep,
    request: Request,
    response: Response,
    page: PageDep,
    reader: Staff,
) -> list[CompensationOffer]:
    offers, more = await desk.page(page, ticket_id=ticket_id)
    link_next(request, response, more)
    return offers


@router.get(
    "/approvals",
    response_model=list[CompensationOffer],
    tags=["compensation"],
    summary="Offers by status; by default those waiting for a lead, oldest first",
)
async def list_approvals(
    desk: DeskDep,
    lead: Lead,
    request: Request,
    response: Response,
    page: PageDep,
    status: OfferStatus = "pending_approval",
) -> list[CompensationOffer]:
    offers, more = await desk.page(page, status=status)
    link_next(request, response, more)
    return offers


@router.get(
    "/approvals/{offer_id}",
    response_model=CompensationOffer,
    tags=["compensation"],
    summary="One offer with its audit trail",
    responses={404: {"description": "no such offer"}},
)
async def get_approval(offer_id: str, desk: DeskDep, reader: Staff) -> CompensationOffer:
    try:
        return await desk.get(offer_id)
    except OfferNotFound as exc:
        raise http_error(exc) from exc


@router.post(
    "/approvals/{offer_id}",
    response_model=CompensationOffer,
    tags=["compensation"],
    summary="A lead approves or rejects a pending offer (repeating the same decision is a no-op)",
    responses={
        403: {"description": "the approver is not a lead, or the amount is above their limit"},
        404: {"description": "no such offer"},
        409: {"description": "already decided differently, or granted without approval"},
    },
)
async def post_approval(
    offer_id: str, decision: ApprovalDecision, desk: DeskDep, lead: Lead
) -> CompensationOffer:
    """Decided by the calling lead: never their own offer, nor one on a ticket they hold."""
    approver = acting_as(lead, decision.approver_id, "approver_id")
    decision = decision.model_copy(update={"approver_id": approver})
    try:
        return await desk.decide(offer_id, decision)
    except (ApprovalRefused, OfferNotFound) as exc:
        raise http_error(exc) from exc


class TotalsView(BaseModel):
    agent_id: str
    period: str = Field(description="The local day, e.g. `2026-11-25`.")
    currency: Literal["VND"] = "VND"
    used: int = Field(description="Granted and approved in the period.")
    cap: int | None = Field(description="The tier's cap; null for an unknown agent.")
    remaining: int | None
    offers: list[CompensationOffer]


@router.get(
    "/agents/{agent_id}/compensation",
    response_model=TotalsView,
    tags=["compensation"],
    summary="An agent's compensation total in a period against their cap",
)
async def get_agent_totals(
    agent_id: Annotated[str, Path(min_length=1, max_length=128)],
    desk: DeskDep,
    who: Annotated[Principal, require("agent", "lead", "admin", "analyst")],
    period: Annotated[
        str | None, Query(pattern=PERIOD.pattern, description="YYYY-MM-DD; today by default")
    ] = None,
) -> TotalsView:
    if who.actor_id != agent_id and not who.has("lead", "admin", "analyst"):
        raise HTTPException(403, detail="an agent sees their own totals only")
    totals = await desk.totals(agent_id, period)
    return TotalsView(
        agent_id=totals.agent_id,
        period=totals.period,
        used=totals.used,
        cap=totals.cap,
        remaining=totals.remaining,
        offers=totals.offers,
    )
