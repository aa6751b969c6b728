"""Intake's HTTP API: channel webhooks, tickets, actions, customers (360), knowledge base.

Routes only translate HTTP into service calls; `http_errors` maps domain errors to HTTP
statuses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, Security
from pydantic import BaseModel, Field, ValidationError

from s8_intake.adapters.customer_store import MergeNotFound
from s8_intake.domain.model import KbArticle
from s8_intake.domain.status import TransitionRefused
from s8_intake.http_errors import http_error
from s8_intake.service import IntakeService, TicketNotFound
from s8_shared.contracts import (
    ACTION_ADAPTER,
    Channel,
    CustomerProfileUpsert,
    Identity,
    InvalidMessage,
    Language,
    MessageInfo,
    TicketSnapshot,
    parse_inbound,
    utcnow,
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
from s8_shared.pagination import PageRequest, link_next, page_of_list, page_params


def get_service(request: Request) -> IntakeService:
    service: IntakeService = request.app.state.intake
    return service


INBOUND_SCHEMA = INBOUND_ADAPTER.json_schema(ref_template="#/components/schemas/{model}")
ServiceDep = Annotated[IntakeService, Depends(get_service)]
router = APIRouter(prefix="/v1")
Staff = Annotated[Principal, require("agent", "lead", "admin")]
Lead = Annotated[Principal, require("lead")]


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
    service: ServiceDep,
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
    accepted = await service.accept(message)
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
async def get_ticket(ticket_id: str, service: ServiceDep, reader: Staff) -> TicketView:
    loaded = await service.tickets.load(ticket_id)
    if loaded is None:
        raise HTTPException(status_code=404, detail=f"no ticket {ticket_id}")
    return TicketView(
        ticket=loaded[0].snapshot,
        messages=await service.messages.for_ticket(ticket_id),
        compensations=(
            await service.compensation.for_ticket(ticket_id) if service.compensation else []
        ),
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
    service: ServiceDep,
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
        return await service.act(action)
    except (TicketNotFound, TransitionRefused) as exc:
        if isinstance(exc, TransitionRefused):
            service.metrics.refused.labels(action.kind).inc()
        raise http_error(exc) from exc


class ProactiveContact(BaseModel):
    """A notice s8 sent the customer about a known problem (before they asked, unless
    `ticket_id` names their incident)."""

    problem_id: str
    update_seq: int
    notice: str = Field(description="declared, update or resolved")
    channel: Channel
    to: str
    language: Language
    ticket_id: str | None = None
    proactive: bool
    at: datetime


class CustomerView(BaseModel):
    customer_id: str
    name: str | None = None
    tier: str
    language: str | None = None
    region: str | None = None
    preferred_channel: Channel | None = None
    products: list[str] = Field(default_factory=list)
    identities: list[Identity]
    tickets: list[TicketSnapshot] = Field(description="Tickets across every channel, newest first.")
    merges: list[dict[str, Any]] = Field(
        description="Merges into this customer; each can be undone."
    )
    last_csat: int | None = Field(
        default=None, description="Latest CSAT score, once surveys report it."
    )
    proactive_contacts: list[ProactiveContact] = Field(
        default_factory=list, description="Notices about known problems, newest first."
    )


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerView,
    tags=["customers"],
    summary="Customer 360",
)
async def get_customer(customer_id: str, service: ServiceDep, reader: Staff) -> CustomerView:
    found = await service.customer_360(customer_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"no customer {customer_id}")
    doc = found["customer"]
    return CustomerView(
        customer_id=doc["_id"],
        name=doc.get("name"),
        tier=doc.get("tier", "standard"),
        language=doc.get("language"),
        region=doc.get("region"),
        preferred_channel=doc.get("preferred_channel"),
        products=doc.get("products") or [],
        identities=found["identities"],
        tickets=found["tickets"],
        merges=[
            {
                "merge_id": m["_id"],
                "merged": m["merged"],
                "at": m["at"],
                "undone_at": m.get("undone_at"),
            }
            for m in found["merges"]
        ],
        last_csat=doc.get("last_csat"),
        proactive_contacts=[
            ProactiveContact.model_validate(c) for c in found["proactive_contacts"]
        ],
    )


@router.put(
    "/customers",
    tags=["customers"],
    summary="Upsert customer attributes by identity (as support.customers.v1)",
)
async def put_customer(
    upsert: CustomerProfileUpsert,
    service: ServiceDep,
    system: Annotated[Principal, require("admin", "service")],
) -> dict[str, Any]:
    try:
        doc = await service.upsert_customer(upsert)
    except InvalidMessage as exc:
        raise http_error(exc) from exc
    return {"customer_id": doc["_id"]}


@router.post(
    "/customers/merges/{merge_id}/undo", tags=["customers"], summary="Undo a customer merge"
)
async def undo_merge(merge_id: str, service: ServiceDep, lead: Lead) -> dict[str, Any]:
    try:
        merge = await service.customers.undo_merge(merge_id, utcnow(), by=lead.actor_id)
    except MergeNotFound as exc:
        raise HTTPException(status_code=404, detail=f"no merge {merge_id}") from exc
    return {
        "merge_id": merge["_id"],
        "restored": merge["merged"],
        "undone_at": merge["undone_at"],
        "undone_by": merge.get("undone_by"),
    }


class ArticleBody(BaseModel):
    language: Language
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=20_000)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    questions: list[str] = Field(default_factory=list, max_length=50)


class ArticleView(ArticleBody):
    article_id: str


@router.get(
    "/kb/articles",
    response_model=list[ArticleView],
    tags=["knowledge base"],
    summary="FAQ articles",
)
async def list_articles(
    service: ServiceDep,
    reader: Staff,
    request: Request,
    response: Response,
    page: Annotated[PageRequest, Depends(page_params)],
) -> list[ArticleView]:
    articles, more = page_of_list(service.selfservice.articles, lambda a: a.article_id, page)
    link_next(request, response, more)
    return [
        ArticleView(
            article_id=a.article_id,
            language=a.language,
            title=a.title,
            body=a.body,
            keywords=list(a.keywords),
            questions=list(a.questions),
        )
        for a in articles
    ]


@router.put(
    "/kb/articles/{article_id}",
    response_model=ArticleView,
    tags=["knowledge base"],
    summary="Add or update a FAQ article",
)
async def put_article(
    article_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")],
    body: ArticleBody,
    request: Request,
    service: ServiceDep,
    lead: Lead,
) -> ArticleView:
    article = KbArticle(
        article_id,
        body.language,
        body.title,
        body.body,
        tuple(body.keywords),
        tuple(body.questions),
    )
    await request.app.state.kb.put(article, utcnow(), by=lead.actor_id)
    service.selfservice.articles = await request.app.state.kb.all()
    return ArticleView(article_id=article_id, **body.model_dump())
