"""Analytics' HTTP API. Every number is computed from stored facts, so a restart changes nothing."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from s8_analytics.adapters.facts import FactStore
from s8_analytics.domain.kpis import RATE_DEFINITIONS, rate
from s8_analytics.domain.proactive import DEFINITIONS as PROACTIVE_DEFINITIONS
from s8_analytics.domain.proactive import Incident, Notice, proactive_report
from s8_analytics.domain.report import DIMENSIONS, build_report
from s8_analytics.domain.stats import OpenTicket, backlog, day_buckets
from s8_analytics.domain.volume import volume_by_channel
from s8_shared.business_time.calendar import BusinessCalendar
from s8_shared.identity.http import require
from s8_shared.projections import TicketProjection

# Read only, for the people who watch the team.
router = APIRouter(prefix="/v1", tags=["kpis"], dependencies=[require("analyst", "lead", "admin")])
MAX_PERIOD_DAYS = 400  # every KPI period; the daily report has one bucket per day
# The reporting period every KPI endpoint takes (read in `tz` when without an offset).
From = Annotated[datetime | None, Query(alias="from")]
To = Annotated[datetime | None, Query(alias="to")]

DEFINITIONS = {
    "csat": "CSAT % = ratings of 4–5 ÷ all ratings on the 5-point scale × 100; response rate = answers ÷ surveys sent × 100.",
    "nps": "NPS = % promoters (9–10) − % detractors (0–6); passives (7–8) count only in the denominator.",
    "first_response_seconds": "Calendar seconds from ticket creation to the first public agent reply (tickets created in the window): median, p90 (nearest rank), average.",
    "resolution_seconds": "Calendar seconds from creation to solve, for tickets solved in the window.",
    "first_response_business_seconds": "The same first response time counted only in the working time of `calendar`.",
    "resolution_business_seconds": "The same resolution time counted only in the working time of `calendar`.",
    "fcr": "Solved tickets with exactly one public agent reply and no reopen ÷ solved tickets with at least one agent reply.",
    "aht_seconds": "Agent handling time: from the first assignment to the solve minus the time the ticket spent pending or on hold, for tickets solved in the window.",
    "queue_seconds": "From the first time a ticket was queued to its first assignment, for tickets created in the window that had to wait.",
    "sla_compliance": "Per target: clocks that finished in the window without a breach ÷ finished clocks (cancelled clocks excluded).",
    **RATE_DEFINITIONS,
    **PROACTIVE_DEFINITIONS,
}


class VolumeView(BaseModel):
    total: int = Field(description="Tickets seen, all time.")
    by_channel: dict[str, int]
    by_status: dict[str, int]


@router.get("/kpis/volume", response_model=VolumeView, summary="Tickets by channel and status")
async def get_volume(request: Request) -> VolumeView:
    projection: TicketProjection = request.app.state.projection
    by_channel = await projection.count_by("channel")
    return VolumeView(
        total=sum(by_channel.values()),
        by_channel=volume_by_channel(by_channel),
        by_status=await projection.count_by("status"),
    )


def _period(
    request: Request, start: datetime | None, end: datetime | None, tz: str
) -> tuple[datetime, datetime, ZoneInfo]:
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise HTTPException(status_code=422, detail=f"unknown time zone {tz!r}") from exc
    end = end or request.app.state.clock()
    try:
        start = start or end - timedelta(days=7)
        if start.tzinfo is None or end.tzinfo is None:
            # Dates without an offset are read in the requested time zone.
            start, end = (
                start.replace(tzinfo=start.tzinfo or zone),
                end.replace(tzinfo=end.tzinfo or zone),
            )
        too_long = end - start > timedelta(days=MAX_PERIOD_DAYS)
    except OverflowError as exc:  # e.g. year 1 minus a week
        raise HTTPException(status_code=422, detail="the period is out of range") from exc
    if end <= start:
        raise HTTPException(status_code=422, detail="`to` must be after `from`")
    if too_long:
        # Each report reads the period's facts: a period is bounded, not the caller's choice.
        raise HTTPException(
            status_code=422, detail=f"a report covers at most {MAX_PERIOD_DAYS} days"
        )
    return start, end, zone


async def _report(
    facts: FactStore,
    start: datetime,
    end: datetime,
    group_by: str | None,
    calendar: BusinessCalendar | None = None,
) -> dict[str, Any]:
    created = await facts.tickets_between("created_at", start, end)
    solved = await facts.tickets_between("solved_at", start, end)
    sla = await facts.sla_finished_between(start, end)
    sent = await facts.surveys_between("sent_at", start, end)
    answered = await facts.surveys_between("answered_at", start, end)
    ids: set[str] = {str(t["_id"]) for t in created + solved} | {
        str(d["ticket_id"]) for d in sla + sent + answered if d.get("ticket_id")
    }
    by_id = {t["_id"]: t async for t in facts.tickets.find({"_id": {"$in": list(ids)}})}
    agents = await facts.agents_of(list(ids))
    return build_report(
        created=created,
        solved=solved,
        agents=agents,
        sla=sla,
        surveys_sent=sent,
        surveys_answered=answered,
        tickets_by_id=by_id,
        dimension=group_by,
        calendar=calendar,
    )


@router.get(
    "/kpis",
    summary="Support KPIs for a period, optionally grouped (definitions in `definitions`)",
    description="Definitions:\n\n"
    + "\n".join(f"- **{name}**: {text}" for name, text in DEFINITIONS.items()),
)
async def get_kpis(
    request: Request,
    start: From = None,
    end: To = None,
    group_by: Annotated[str | None, Query(description=f"one of {', '.join(DIMENSIONS)}")] = None,
    tz: str = "Asia/Ho_Chi_Minh",
    calendar: Annotated[
        str, Query(description="Business calendar for *_business_seconds")
    ] = "vn-office",
) -> dict[str, Any]:
    if group_by is not None and group_by not in DIMENSIONS:
        raise HTTPException(
            status_code=422, detail=f"group_by must be one of {', '.join(DIMENSIONS)}"
        )
    start, end, _ = _period(request, start, end, tz)
    facts: FactStore = request.app.state.facts
    groups = await _report(facts, start, end, group_by, _calendar(request, calendar))
    handoffs = sum(
        1 for t in await facts.tickets_between("created_at", start, end) if t.get("bot_handoff")
    )
    handled = await facts.bots_handled_between(start, end)
    proactive = await _proactive(facts, start, end)
    return {
        "from": start,
        "to": end,
        "tz": tz,
        "calendar": calendar,
        "handoff_rate": asdict(rate(handoffs, handoffs + handled)),
        "proactive_contact_rate": proactive["proactive_contact_rate"],
        "group_by": group_by,
        "groups": groups,
        "definitions": DEFINITIONS,
    }


async def _proactive(facts: FactStore, start: datetime, end: datetime) -> dict[str, Any]:
    contacts = await facts.contacts_between(start, end)
    problem_ids = sorted({str(c["problem_id"]) for c in contacts})
    incidents = await facts.incidents_of(problem_ids)
    inbound = await facts.tickets_created_between(start, end)
    return proactive_report(
        [Notice(c["problem_id"], c["customer_id"], bool(c.get("proactive"))) for c in contacts],
        [Incident(t["problem_id"], t["customer_id"], t["_id"]) for t in incidents],
        inbound,
        await facts.problems_by_id(problem_ids),
    )


@router.get(
    "/kpis/proactive",
    summary="Proactive support: contacts started about known problems, tickets avoided, "
    "incidents per problem and the proactive contact rate",
    description="Definitions:\n\n"
    + "\n".join(
        f"- **{name}**: {DEFINITIONS[name]}"
        for name in ("proactive_contacts", "tickets_avoided", "incidents", "proactive_contact_rate")
    ),
)
async def get_proactive(
    request: Request,
    start: From = None,
    end: To = None,
    tz: str = "Asia/Ho_Chi_Minh",
) -> dict[str, Any]:
    start, end, _ = _period(request, start, end, tz)
    report = await _proactive(request.app.state.facts, start, end)
    return {"from": start, "to": end, "tz": tz, **report}


def _calendar(request: Request, calendar_id: str) -> BusinessCalendar:
    calendars: dict[str, BusinessCalendar] = request.app.state.calendars
    if calendar_id not in calendars:
        known = ", ".join(sorted(calendars))
        raise HTTPException(
            status_code=422, detail=f"unknown calendar {calendar_id!r}; known: {known}"
        )
    return calendars[calendar_id]


@router.get("/kpis/daily", summary="The KPIs day by day in the requested time zone")
async def get_daily(
    request: Request,
    start: From = None,
    end: To = None,
    tz: str = "Asia/Ho_Chi_Minh",
) -> dict[str, Any]:
    start, end, _ = _period(request, start, end, tz)  # at most MAX_PERIOD_DAYS buckets
    days = []
    for day, day_start, day_end in day_buckets(start, end, tz):
        report = await _report(request.app.state.facts, day_start, day_end, None)
        days.append({"date": day.isoformat(), **report.get("all", {})})
    return {"from": start, "to": end, "tz": tz, "days": days, "definitions": DEFINITIONS}


@router.get("/kpis/backlog", summary="Open tickets now, by status, priority and age bucket")
async def get_backlog(request: Request) -> dict[str, Any]:
    facts: FactStore = request.app.state.facts
    cursor = facts.tickets.find({"status": {"$in": ["new", "open", "pending", "on_hold"]}})
    open_tickets = [OpenTicket(d["status"], d["priority"], d["created_at"]) async for d in cursor]
    return asdict(backlog(open_tickets, request.app.state.clock()))
