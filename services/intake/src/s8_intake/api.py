"""Intake's HTTP API: channel webhooks, tickets and agent actions (customers and the
knowledge base: `api_customers`).

Routes only translate HTTP into service calls; `http_errors` maps domain errors to HTTP
statuses.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Security
from pydantic import BaseModel, Field, ValidationError

from s8_intake.adapters.message_store import MessageStore
from s8_intake.adapters.ticket_store import TicketStore
from s8_intake.domain.status import TransitionRefused
from s8_intake.http_errors import http_error
from s8_intake.ports import TicketNotFound
from s8_intake.service.accepting import Accepting
from s8_intake.service.actions import Actions
from s8_intake.service.compensation import CompensationDesk
from s8_shared.contracts import (
    ACTION_ADAPTER,
    Channel,
    InvalidMessage,
    MessageInfo,
    TicketSnapshot,
    parse_inbound,
)
from s8_shared.contracts.compensation import CompensationOffer
from s8_shared.contracts.envelope import (
    NotAJsonObject,
    TooLarge,
    load_json_object,
    validation_reason,
)
from s8_shared.contracts.inbound import INBOUND_ADAPTER
from s8_shared.identity import Principal
from s8_shared.identity.http import acting_as, channel_caller, require


# Each route asks for the application service it calls; `app.py` built them once
# (`app.state.intake`, an `IntakeServices`).
def get_accepting(request: Request) -> Accepting:
    service: Accepting = request.app.state.intake.accepting
    return service


def get_actions(request: Request) -> Actions:
    service: Actions = request.app.state.intake.actions
    return service


def get_compensation(request: Request) -> CompensationDesk:
    desk: CompensationDesk = request.app.state.intake.compensation
    return desk


def get_tickets(request: Request) -> TicketStore:
    tickets: TicketStore = request.app.state.intake.tickets
    return tickets


def get_messages(request: Request) -> MessageStore:
    messages: MessageStore = request.app.state.intake.messages
    return messages


INBOUND_SCHEMA = INBOUND_ADAPTER.json_schema(ref_template="#/components/schemas/{model}")
AcceptingDep = Annotated[Accepting, Depends(get_accepting)]
ActionsDep = Annotated[Actions, Depends(get_actions)]
CompensationDep = Annotated[CompensationDesk, Depends(get_compensation)]
TicketsDep = Annotated[TicketStore, Depends(get_tickets)]
MessagesDep = Annotated[MessageStore, Depends(get_messages)]
router = APIRouter(prefix="/v1")
Staff = Annotated[Principal, require("agent", "lead", "admin")]


async def _json_body(request: Request) -> dict[str, Any]:
    # The body's size is limited for every route by the runtime's BodyLimitMiddleware (413).
    body = await request.body()
    try:
        return load_json_object(body)
    except NotAJsonObject as exc:
        raise HTTPException(status_code=422, detail="body must be a JSON object") from exc
    except TooLarge as exc:  # S8_MAX_BODY_BYTES above what a topic message may be
        raise HTTPException(status_code=413, detail=exc.reason) from exc
    except InvalidMessage as exc:  # bad JSON, too deep, huge integers, lone surrogates
        raise HTTPException(
            status_code=400, detail=f"body is not valid JSON: {exc.reason}"
        ) from exc


class AcceptedView(BaseModel):
    outcome: str = Field(description="created, joined, reopened, duplicate or skipped")
    ticket_id: str | None
    reason: str | None = None


@router.post(
    "/inbound/{channel}",
    status_code=202,
    response_model=AcceptedView,
    tags=["inbound"],
    summary="Webhook for a channel's customer message (same contract as support.inbound.v1)",
    responses={
        400: {"description": "not JSON"},
        413: {"description": "too large"},
        422: {"description": "invalid, with reasons"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": INBOUND_SCHEMA}},
        }
    },
)
async def post_inbound(
    channel: Channel,
    request: Request,
    accepting: AcceptingDep,
    system: Annotated[Principal, Security(channel_caller, scopes=["channel"])],
) -> AcceptedView:
    data = await _json_body(request)
    if data.setdefault("channel", channel.value) != channel.value:
        raise HTTPException(
            status_code=422, detail=f"body channel {data['channel']!r} does not match the URL"
        )
    try:
        message = parse_inbound(data)
    except ValidationError as exc:
        raise HTTPException(status_code=422, detail=validation_reason(exc)) from exc
    accepted = await accepting.accept(message)
    return AcceptedView(
        outcome=accepted.outcome, ticket_id=accepted.ticket_id, reason=accepted.reason
    )


class TicketView(BaseModel):
    ticket: TicketSnapshot
    messages: list[MessageInfo]
    compensations: list[CompensationOffer] = Field(
        default_factory=list, description="Refunds and vouchers offered on this ticket."
    )


@router.get(
    "/tickets/{ticket_id}",
    response_model=TicketView,
    tags=["tickets"],
    summary="A ticket with its messages",
)
async def get_ticket(
    ticket_id: str,
    tickets: TicketsDep,
    messages: MessagesDep,
    compensation: CompensationDep,
    reader: Staff,
) -> TicketView:
    loaded = await tickets.load(ticket_id)
    if loaded is None:
        raise HTTPException(status_code=404, detail=f"no ticket {ticket_id}")
    return TicketView(
        ticket=loaded[0].snapshot,
        messages=await messages.for_ticket(ticket_id),
        compensations=await compensation.for_ticket(ticket_id),
    )


@router.post(
    "/tickets/{ticket_id}/actions",
    response_model=TicketSnapshot,
    tags=["tickets"],
    summary="Apply an agent action (reply, note, set_status, set_priority, transfer, merge, not_helpful)",
    responses={
        404: {"description": "no such ticket"},
        409: {"description": "refused by the state machine, with the reason"},
    },
)
async def post_action(
    ticket_id: Annotated[str, Path(max_length=64)],
    request: Request,
    actions: ActionsDep,
    who: Annotated[Principal, require("agent", "lead", "channel")],
) -> TicketSnapshot:
    """The caller acts as themselves (`actor_id` may be left out); a channel system only
    passes on a customer's `not_helpful`."""
    data = await _json_body(request)
    data["ticket_id"] = ticket_id
    data["actor_id"] = acting_as(who, data.get("actor_id"), "actor_id")
    try:
        action = ACTION_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise HTTPException(status_code=422, detail=validation_reason(exc)) from exc
    if not who.has("agent", "lead") and action.kind != "not_helpful":
        raise HTTPException(status_code=403, detail="a channel system only reports not_helpful")
    try:
        return await actions.act(action)
    except (TicketNotFound, TransitionRefused) as exc:
        if isinstance(exc, TransitionRefused):
            actions.refused(action)
        raise http_error(exc) from exc
