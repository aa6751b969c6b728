"""Intake's HTTP API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from s8_intake.service import IntakeService
from s8_shared.contracts import MessageInfo, TicketSnapshot


class TicketView(BaseModel):
    ticket: TicketSnapshot
    messages: list[MessageInfo]


def get_service(request: Request) -> IntakeService:
    service: IntakeService = request.app.state.intake
    return service


ServiceDep = Annotated[IntakeService, Depends(get_service)]

router = APIRouter(prefix="/v1", tags=["tickets"])


@router.get("/tickets/{ticket_id}", response_model=TicketView, summary="A ticket with its messages")
async def get_ticket(ticket_id: str, service: ServiceDep) -> TicketView:
    found = await service.ticket(ticket_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no ticket {ticket_id}")
    return TicketView.model_validate(found)
