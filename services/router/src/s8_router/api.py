"""Router's HTTP API: the roster, presence, loads and queues."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field

from s8_router.access import check_own, check_presence_change, check_profile_change, forbid
from s8_router.adapters.agent_store import to_state
from s8_router.domain.policy import queue_order
from s8_router.domain.record import RoutingState
from s8_router.service import RouterService
from s8_shared import topics
from s8_shared.contracts import AgentProfile, Presence, utcnow
from s8_shared.identity import Principal
from s8_shared.identity.http import require
from s8_shared.pagination import PageRequest, encode_cursor, link_next, page_params

AgentId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.@-]{1,128}$")]
router = APIRouter(prefix="/v1")


def get_service(request: Request) -> RouterService:
    service: RouterService = request.app.state.router
    return service


ServiceDep = Annotated[RouterService, Depends(get_service)]
Admins = Annotated[Principal, require("lead", "admin")]
Agents = Annotated[Principal, require("agent", "lead", "admin")]
Readers = Annotated[Principal, require("lead", "admin", "analyst")]
READERS = ("lead", "admin", "analyst")


async def _profile(service: RouterService, agent_id: str) -> AgentProfile | None:
    doc = await service.agents.get(agent_id)
    return None if doc is None else AgentProfile.model_validate(doc["profile"])


async def _publish_profile(request: Request, profile: AgentProfile) -> None:
    # The compacted agents topic stays the source of truth other services can read.
    await request.app.state.runtime.publisher.publish_raw(
        topics.AGENTS,
        profile.model_dump_json().encode(),
        key=profile.agent_id.encode(),
        headers={"content-type": "application/json"},
    )


@router.put(
    "/agents/{agent_id}",
    response_model=AgentProfile,
    tags=["agents"],
    summary="Create or replace an agent",
)
async def put_agent(
    agent_id: AgentId, profile: AgentProfile, request: Request, service: ServiceDep, who: Admins
) -> AgentProfile:
    """Admins set anything; a lead adds or edits their own team's agents (a new one at L1,
    never a tier or the lead flag)."""
    if profile.agent_id != agent_id:
        raise HTTPException(status_code=422, detail="agent_id in the body must match the URL")
    check_profile_change(
        who, await service.agents.get(who.actor_id), await _profile(service, agent_id), profile
    )
    profile = profile.model_copy(update={"updated_at": utcnow()})
    await service.on_agent_profile(profile)
    await _publish_profile(request, profile)
    return profile


class PresenceBody(BaseModel):
    presence: Presence


@router.put(
    "/agents/{agent_id}/presence",
    response_model=AgentProfile,
    tags=["agents"],
    summary="Set presence",
)
async def put_presence(
    agent_id: AgentId, body: PresenceBody, request: Request, service: ServiceDep, who: Agents
) -> AgentProfile:
    """An agent sets their own presence, a lead that of their team's agents."""
    stored = await _profile(service, agent_id)
    if stored is None:
        raise HTTPException(status_code=404, detail=f"no agent {agent_id}")
    check_presence_change(who, await service.agents.get(who.actor_id), stored)
    profile = stored.model_copy(update={"presence": body.presence, "updated_at": utcnow()})
    await service.on_agent_profile(profile)
    await _publish_profile(request, profile)
    return profile


class AgentLoad(BaseModel):
    agent_id: str
    presence: str
    tier: str
    team: str
    capacity: dict[str, int]
    active: dict[str, int]
    occupancy: float = Field(
        description="Active tickets ÷ capacity over the agent's channel kinds."
    )
    tickets: list[str] = Field(default_factory=list)


@router.get(
    "/agents", response_model=list[AgentLoad], tags=["agents"], summary="The roster with live load"
)
async def list_agents(
    service: ServiceDep,
    reader: Readers,
    request: Request,
    response: Response,
    page: Annotated[PageRequest, Depends(page_params)],
) -> list[AgentLoad]:
    docs, more = await service.agents.page(page)
    link_next(request, response, more)
    held = await service.routing.held_by_agents([d["_id"] for d in docs])  # one query a page
    return [_load(doc, held.get(doc["_id"], [])) for doc in docs]


@router.get(
    "/agents/{agent_id}/load",
    response_model=AgentLoad,
    tags=["agents"],
    summary="An agent's current load",
)
async def agent_load(agent_id: AgentId, service: ServiceDep, who: Agents) -> AgentLoad:
    check_own(who, agent_id, readers=READERS)
    doc = await service.agents.get(agent_id)
    if doc is None:
        raise HTTPException(status_code=404, detail=f"no agent {agent_id}")
    held = await service.routing.held_by_agents([agent_id])
    return _load(doc, held[agent_id])


def _load(doc: dict[str, Any], tickets: list[str]) -> AgentLoad:
    state = to_state(doc)
    return AgentLoad(
        agent_id=state.agent_id,
        presence=state.presence,
        tier=state.tier,
        team=state.team,
        capacity=dict(state.capacity),
        active=dict(state.active),
        occupancy=state.occupancy(),
        tickets=tickets,
    )


class QueuedTicket(BaseModel):
    ticket_id: str
    priority: str
    required_skills: list[str]
    channel_kind: str
    tier_required: str | None
    waiting_seconds: float
    why_waiting: dict[str, str] = Field(
        description="Agent → why they could not take it at the last try."
    )


class QueueView(BaseModel):
    waiting_by_priority: dict[str, int]
    tickets: list[QueuedTicket] = Field(description="In the order they will be served.")
    by_state: dict[str, int] = Field(
        description="Open routing records by state (new, queued, offered, assigned)."
    )


@router.get(
    "/queues",
    response_model=QueueView,
    tags=["queues"],
    summary="Tickets waiting for an agent, in serving order (paginated: Link / X-Next-Cursor)",
)
async def get_queues(
    reader: Annotated[Principal, require("agent", "lead", "admin", "analyst")],
    request: Request,
    response: Response,
    service: ServiceDep,
    page: Annotated[PageRequest, Depends(page_params)],
) -> QueueView:
    # The cursor is a position in the serving order: the order moves as tickets age, so a
    # page is the queue as it is now from that position on.
    start = page.after[1] if page.after else 0
    if not isinstance(start, int) or start < 0:
        raise HTTPException(status_code=400, detail="cursor is not one this API gave")
    # The oldest of each priority hold the head of the serving order: read only those.
    head = await service.routing.queue_head(per_priority=start + page.limit + 1)
    records = {r.ticket_id: r for r in head if r.route}
    now = utcnow()
    ordered = queue_order([r.routed for r in records.values()], now, service.policy())
    more = len(ordered) > start + page.limit
    link_next(request, response, encode_cursor(None, start + page.limit) if more else None)
    counts = {p: 0 for p in ("urgent", "high", "normal", "low")}
    for (priority, _), n in (await service.routing.queue_depth()).items():
        counts[priority] = counts.get(priority, 0) + n
    return QueueView(
        waiting_by_priority=counts,
        tickets=[
            QueuedTicket(
                ticket_id=r.ticket_id,
                priority=r.priority,
                required_skills=list(r.required_skills),
                channel_kind=r.channel_kind,
                tier_required=r.tier_required,
                waiting_seconds=(now - r.waiting_since).total_seconds(),
                why_waiting=dict(records[r.ticket_id].rejected),
            )
            for r in ordered[start : start + page.limit]
        ],
        by_state=await service.routing.count_open_by_state(),
    )


@router.post(
    "/assignments/{ticket_id}/accept", tags=["queues"], summary="An agent accepts an offered ticket"
)
async def accept(
    ticket_id: str,
    service: ServiceDep,
    who: Annotated[Principal, require("agent")],
    agent_id: str | None = None,
) -> dict[str, Any]:
    """The calling agent accepts an offer made to them (`agent_id`, if given, must be theirs)."""
    if agent_id is not None and agent_id != who.actor_id:
        raise forbid("an agent accepts only offers made to them")
    agent_id = who.actor_id
    if not await service.accept(ticket_id, agent_id):
        raise HTTPException(status_code=409, detail="no open offer of this ticket to this agent")
    return {"ticket_id": ticket_id, "agent_id": agent_id, "state": RoutingState.ASSIGNED.value}


@router.post(
    "/assignments/{ticket_id}/decline",
    tags=["queues"],
    summary="An agent declines an offered ticket (it moves on, never offered to them again)",
)
async def decline(
    ticket_id: str, service: ServiceDep, who: Annotated[Principal, require("agent")]
) -> dict[str, Any]:
    """Only the calling agent's own offer; 409 if none is open."""
    if not await service.decline(ticket_id, who.actor_id):
        raise HTTPException(status_code=409, detail="no open offer of this ticket to this agent")
    return {"ticket_id": ticket_id, "agent_id": who.actor_id, "declined": True}
