"""Intake's HTTP API for known problems: declare, update, resolve, list, and link or
unlink incidents by hand (the same as the `link_problem` / `unlink_problem` actions)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field

from s8_intake.adapters.ticket_store import TicketStore
from s8_intake.domain.problems import ProblemRefused
from s8_intake.domain.status import TransitionRefused
from s8_intake.http_errors import http_error
from s8_intake.ports import TicketNotFound
from s8_intake.service.actions import Actions
from s8_intake.service.problems import ProblemDesk, ProblemNotFound
from s8_shared.contracts import TicketSnapshot, deterministic_id
from s8_shared.contracts.actions import LinkProblem, UnlinkProblem
from s8_shared.contracts.problems import (
    ProblemDeclaration,
    ProblemSnapshot,
    ProblemStatus,
    ProblemUpdate,
)
from s8_shared.identity import Principal
from s8_shared.identity.http import acting_as, require
from s8_shared.pagination import PageRequest, link_next, page_params

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such problem or ticket"},
    409: {"description": "refused, with the reason (e.g. the problem is resolved)"},
    422: {"description": "invalid body, with reasons"},
}


def get_desk(request: Request) -> ProblemDesk:
    desk: ProblemDesk = request.app.state.intake.problems
    return desk


def get_actions(request: Request) -> Actions:
    actions: Actions = request.app.state.intake.actions
    return actions


def get_tickets(request: Request) -> TicketStore:
    tickets: TicketStore = request.app.state.intake.tickets
    return tickets


DeskDep = Annotated[ProblemDesk, Depends(get_desk)]
ActionsDep = Annotated[Actions, Depends(get_actions)]
TicketsDep = Annotated[TicketStore, Depends(get_tickets)]
router = APIRouter(prefix="/v1", tags=["problems"])
Lead = Annotated[Principal, require("lead")]
Staff = Annotated[Principal, require("agent", "lead")]


@router.post(
    "/problems",
    response_model=ProblemSnapshot,
    status_code=201,
    responses={200: {"description": "the same declaration again (applied once)"}, **ERRORS},
    summary="Declare a problem; affected customers are told in the background (throttled)",
)
async def declare_problem(
    body: ProblemDeclaration, desk: DeskDep, response: Response, lead: Lead
) -> ProblemSnapshot:
    body = body.model_copy(update={"declared_by": acting_as(lead, body.declared_by, "declared_by")})
    try:
        problem, created = await desk.declare(body)
    except ProblemRefused as exc:
        raise http_error(exc) from exc
    if not created:
        response.status_code = 200
    return problem


@router.get("/problems", response_model=list[ProblemSnapshot], summary="Problems, newest first")
async def list_problems(
    desk: DeskDep,
    reader: Staff,
    request: Request,
    response: Response,
    page: Annotated[PageRequest, Depends(page_params)],
    status: Annotated[ProblemStatus | None, Query()] = None,
) -> list[ProblemSnapshot]:
    problems, more = await desk.page(status, page)
    link_next(request, response, more)
    return problems


@router.get(
    "/problems/{problem_id}",
    responses=ERRORS,
    summary="A problem with its incidents, notices sent and outreach progress",
)
async def get_problem(problem_id: str, desk: DeskDep, reader: Staff) -> dict[str, Any]:
    try:
        return await desk.details(problem_id)
    except ProblemNotFound as exc:
        raise http_error(exc) from exc


@router.patch(
    "/problems/{problem_id}",
    response_model=ProblemSnapshot,
    responses=ERRORS,
    summary="Update a problem (status, message, segment); `resolved` tells every linked "
    "customer and solves their incidents",
)
async def update_problem(
    problem_id: str, body: ProblemUpdate, desk: DeskDep, lead: Lead
) -> ProblemSnapshot:
    body = body.model_copy(update={"updated_by": acting_as(lead, body.updated_by, "updated_by")})
    try:
        return await desk.update(problem_id, body)
    except (ProblemNotFound, ProblemRefused) as exc:
        raise http_error(exc) from exc


class IncidentLink(BaseModel):
    ticket_id: str = Field(min_length=1, max_length=64)
    actor_id: str | None = Field(
        default=None, max_length=128, description="Left out, or the caller (the token decides)."
    )


@router.post(
    "/problems/{problem_id}/incidents",
    response_model=TicketSnapshot,
    responses=ERRORS,
    summary="Link a ticket to the problem by hand",
)
async def link_incident(
    problem_id: str, body: IncidentLink, desk: DeskDep, actions: ActionsDep, who: Staff
) -> TicketSnapshot:
    actor = acting_as(who, body.actor_id, "actor_id")
    action = LinkProblem(
        action_id=deterministic_id("link", problem_id, body.ticket_id, actor).hex,
        ticket_id=body.ticket_id,
        actor_id=actor,
        problem_id=problem_id,
    )
    try:
        await desk.get(problem_id)
        return await actions.act(action)
    except (ProblemNotFound, TicketNotFound, TransitionRefused) as exc:
        raise http_error(exc) from exc


@router.delete(
    "/problems/{problem_id}/incidents/{ticket_id}",
    response_model=TicketSnapshot,
    responses=ERRORS,
    summary="Unlink a ticket; one parked for the fix goes to the agents' queue",
)
async def unlink_incident(
    problem_id: str,
    ticket_id: str,
    tickets: TicketsDep,
    actions: ActionsDep,
    who: Staff,
    actor_id: Annotated[
        str | None, Query(max_length=128, description="Left out, or the caller.")
    ] = None,
) -> TicketSnapshot:
    actor = acting_as(who, actor_id, "actor_id")
    loaded = await tickets.load(ticket_id)
    if loaded is None:
        raise http_error(TicketNotFound(ticket_id))
    if loaded[0].snapshot.problem_id != problem_id:
        raise HTTPException(
            status_code=409, detail=f"ticket {ticket_id} is not linked to {problem_id}"
        )
    action = UnlinkProblem(
        action_id=deterministic_id("unlink", problem_id, ticket_id, loaded[0].snapshot.version).hex,
        ticket_id=ticket_id,
        actor_id=actor,
    )
    try:
        return await actions.act(action)
    except (TicketNotFound, TransitionRefused) as exc:
        raise http_error(exc) from exc
