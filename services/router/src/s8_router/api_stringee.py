"""Stringee's agent-list callback: a Stringee contact-centre queue whose
`get_list_agents_url` is set asks, for the calls waiting in it, which agents to ring; the
router answers by its own rules (`domain/ringing.py`), so phone calls follow the same
presence, capacity and language as every other ticket.

Shape (Stringee's queue documentation names the URL, not its body; this follows the
request and answer integrations use): Stringee posts
`{"queueId": ..., "projectId": ..., "calls": [{"callId": ..., "from": ..., "to": ...}]}`
and reads `{"version": 2, "calls": [{"callId": ..., "agents": [{"stringee_user_id": ...,
"routing_type": 1, "answer_timeout": 15}]}]}`, agents in the order to ring them. An
agent's Stringee user id is their agent id (profiles hold no other id yet), and
`routing_type` 1 rings their Stringee app or SIP phone.

Stringee signs nothing: the URL set on the queue carries a secret `?token=`
(S8_STRINGEE_URL_TOKEN), compared in constant time; unset, the callback answers 401.
The answer only rings agents: the call becomes a ticket through the channels service's
events, and is routed like any ticket then.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Depends, HTTPException, Request, Security
from fastapi.security import APIKeyQuery
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from s8_router.domain.model import AgentState
from s8_router.domain.policy import RoutingPolicy
from s8_router.domain.ringing import ring_lists
from s8_router.service import RouterService
from s8_router.settings import RouterSettings
from s8_shared.contracts import utcnow

MAX_AGENTS_PER_CALL = 20
APP_OR_SIP = 1  # Stringee's routing_type: ring the agent's app or SIP phone

router = APIRouter(prefix="/v1/channels/stringee", tags=["stringee"])


class Roster(Protocol):
    async def roster(self) -> list[AgentState]: ...


_token = APIKeyQuery(
    name="token",
    scheme_name="stringeeUrlToken",
    description="S8_STRINGEE_URL_TOKEN, put in the agent-list URL set on the Stringee queue.",
    auto_error=False,  # refused below with 401, like a wrong token
)


@dataclass(frozen=True)
class AgentLists:
    """What the callback reads: every agent with their live load (from the store, not a
    cached view: a call rings now), the routing policy and the callback's settings."""

    roster: Roster
    policy: Callable[[], RoutingPolicy]
    clock: Callable[[], datetime]
    token: SecretStr | None
    language: str
    answer_timeout: int


def agent_lists(request: Request) -> AgentLists:
    service: RouterService = request.app.state.router
    settings: RouterSettings = request.app.state.runtime.settings
    return AgentLists(
        roster=service.agents,
        policy=service.policy,
        clock=utcnow,
        token=settings.stringee_url_token,
        language=settings.stringee_call_language.value,
        answer_timeout=settings.stringee_answer_timeout_seconds,
    )


def authorized(
    lists: Annotated[AgentLists, Depends(agent_lists)],
    token: Annotated[str | None, Security(_token)] = None,
) -> AgentLists:
    """A dependency, so a missing token answers 401 before the body is even read."""
    expected = lists.token.get_secret_value() if lists.token is not None else ""
    if not expected or not token or not hmac.compare_digest(expected.encode(), token.encode()):
        raise HTTPException(401, "stringee URL token missing or wrong")
    return lists


class WaitingCall(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    call_id: str = Field(alias="callId", min_length=1, max_length=256)
    from_: Any = Field(default=None, alias="from", description="The caller, as Stringee sends it.")
    to: Any = None


class AgentListRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    queue_id: str | None = Field(default=None, alias="queueId", max_length=256)
    project_id: int | str | None = Field(default=None, alias="projectId")
    calls: list[WaitingCall] = Field(default_factory=list, max_length=100)


class RingAgent(BaseModel):
    stringee_user_id: str
    routing_type: int = APP_OR_SIP
    answer_timeout: int = Field(description="Seconds Stringee rings this agent.")


class RingCall(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    call_id: str = Field(alias="callId")
    agents: list[RingAgent] = Field(description="In the order to ring them; empty: nobody.")


class AgentListAnswer(BaseModel):
    version: Literal[2] = 2
    calls: list[RingCall]


@router.post(
    "/agents",
    response_model=AgentListAnswer,
    summary="Stringee: which agents a queue's waiting calls may ring (get_list_agents_url)",
    responses={401: {"description": "no token, or not S8_STRINGEE_URL_TOKEN"}},
)
async def agents_to_ring(
    body: AgentListRequest, lists: Annotated[AgentLists, Depends(authorized)]
) -> AgentListAnswer:
    chosen = ring_lists(
        [call.call_id for call in body.calls],
        await lists.roster.roster(),
        lists.policy(),
        lists.clock(),
        language=lists.language,
        limit=MAX_AGENTS_PER_CALL,
    )
    return AgentListAnswer(
        calls=[
            RingCall(
                call_id=call_id,
                agents=[
                    RingAgent(stringee_user_id=a.agent_id, answer_timeout=lists.answer_timeout)
                    for a in agents
                ],
            )
            for call_id, agents in chosen
        ]
    )
