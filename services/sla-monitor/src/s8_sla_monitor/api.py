"""SLA monitor's HTTP API: policies, calendars and a ticket's clocks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from pydantic import ValidationError

from s8_shared.contracts.envelope import validation_reason
from s8_shared.identity import Principal
from s8_shared.identity.http import require
from s8_sla_monitor.adapters.clock_store import ClockStore
from s8_sla_monitor.config import SlaConfig
from s8_sla_monitor.service import SlaService

router = APIRouter(prefix="/v1")


def get_config(request: Request) -> SlaConfig:
    config: SlaConfig = request.app.state.config
    return config


def get_service(request: Request) -> SlaService:
    service: SlaService = request.app.state.sla
    return service


ConfigDep = Annotated[SlaConfig, Depends(get_config)]
Admin = Annotated[Principal, require("admin")]
Readers = Annotated[Principal, require("lead", "admin", "analyst")]


def _refused(exc: Exception) -> HTTPException:
    detail = validation_reason(exc) if isinstance(exc, ValidationError) else str(exc)
    return HTTPException(status_code=422, detail=detail)


@router.get("/policies", tags=["policies"], summary="SLA policies in match order")
async def get_policies(config: ConfigDep, reader: Readers) -> Any:
    return await config.raw("policies")


@router.put(
    "/policies",
    tags=["policies"],
    summary="Replace the SLA policies (validated; calendars must exist)",
)
async def put_policies(
    config: ConfigDep, body: Annotated[dict[str, Any], Body()], request: Request, admin: Admin
) -> Any:
    try:
        policies = await config.put_policies(body)
    except (ValueError, ValidationError) as exc:
        raise _refused(exc) from exc
    await get_service(request).recompute_open()  # open clocks follow the new promises
    return policies.model_dump(mode="json")


@router.get(
    "/calendars", tags=["calendars"], summary="Business calendars (working windows, holidays)"
)
async def get_calendars(config: ConfigDep, reader: Readers) -> Any:
    return await config.raw("calendars")


@router.put("/calendars", tags=["calendars"], summary="Replace the business calendars (validated)")
async def put_calendars(
    config: ConfigDep, body: Annotated[dict[str, Any], Body()], request: Request, admin: Admin
) -> Any:
    try:
        await config.put_calendars(body)
    except (ValueError, ValidationError, KeyError, TypeError) as exc:
        raise _refused(exc) from exc
    await get_service(request).recompute_open()
    return await config.raw("calendars")


@router.get(
    "/clocks/{ticket_id}",
    tags=["clocks"],
    summary="A ticket's SLA clocks with due times and elapsed time",
)
async def get_clocks(
    ticket_id: str,
    request: Request,
    reader: Annotated[Principal, require("agent", "lead", "admin", "analyst")],
) -> list[dict[str, Any]]:
    store: ClockStore = request.app.state.clock_store
    clocks = await store.by_ticket_view(ticket_id)
    if not clocks:
        raise HTTPException(status_code=404, detail=f"no clocks for ticket {ticket_id}")
    for doc in clocks:
        doc["clock_id"] = doc.pop("_id")
        doc.pop("lease_owner", None)
    return clocks
