"""Intake's HTTP API for customers (the 360 view, CRM upserts, undoing a merge) and the
knowledge base's FAQ articles. Routes only translate HTTP into service calls."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from pydantic import BaseModel, Field

from s8_intake.adapters.customer_store import MergeNotFound, SuggestionClosed, SuggestionNotFound
from s8_intake.adapters.kb_store import KbStore
from s8_intake.domain.model import KbArticle
from s8_intake.http_errors import http_error
from s8_intake.selfservice import SelfService
from s8_intake.service.customers import CustomerDesk
from s8_shared.contracts import (
    Channel,
    CustomerProfileUpsert,
    Identity,
    InvalidMessage,
    Language,
    TicketSnapshot,
    utcnow,
)
from s8_shared.identity import Principal
from s8_shared.identity.http import require
from s8_shared.pagination import PageRequest, link_next, page_of_list, page_params


def get_customers(request: Request) -> CustomerDesk:
    service: CustomerDesk = request.app.state.intake.customers
    return service


def get_selfservice(request: Request) -> SelfService:
    selfservice: SelfService = request.app.state.intake.selfservice
    return selfservice


def get_kb(request: Request) -> KbStore:
    kb: KbStore = request.app.state.intake.kb
    return kb


CustomersDep = Annotated[CustomerDesk, Depends(get_customers)]
SelfServiceDep = Annotated[SelfService, Depends(get_selfservice)]
KbDep = Annotated[KbStore, Depends(get_kb)]
router = APIRouter(prefix="/v1")
Staff = Annotated[Principal, require("agent", "lead", "admin")]
Lead = Annotated[Principal, require("lead")]


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


class SuggestedMerge(BaseModel):
    """Two customers an asserted identity suggests are one person; an agent decides."""

    suggestion_id: str
    customers: list[str]
    identity: Identity
    confidence: float = Field(ge=0, le=1)
    reason: str
    state: str = Field(description="open, confirmed or dismissed")
    at: datetime
    merge_id: str | None = Field(default=None, description="The merge a confirmation made.")


class FollowView(BaseModel):
    account: str
    following: bool
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
    suggested_merges: list[SuggestedMerge] = Field(
        default_factory=list,
        description="Other customers an identity this one asserted (or another asserted) "
        "suggests are the same person; never merged without an agent or a verified channel.",
    )
    follows: list[FollowView] = Field(
        default_factory=list, description="Accounts (a Zalo OA) the customer follows or left."
    )


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerView,
    tags=["customers"],
    summary="Customer 360",
)
async def get_customer(customer_id: str, customers: CustomersDep, reader: Staff) -> CustomerView:
    found = await customers.customer_360(customer_id)
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
        suggested_merges=[suggested(d) for d in found["suggestions"]],
        follows=[FollowView.model_validate(f) for f in doc.get("follows") or []],
    )


def suggested(doc: dict[str, Any]) -> SuggestedMerge:
    return SuggestedMerge.model_validate(
        {**doc, "suggestion_id": doc["_id"], "identity": Identity(**doc["identity"])}
    )


@router.put(
    "/customers",
    tags=["customers"],
    summary="Upsert customer attributes by identity (as support.customers.v1)",
)
async def put_customer(
    upsert: CustomerProfileUpsert,
    customers: CustomersDep,
    system: Annotated[Principal, require("admin", "service")],
) -> dict[str, Any]:
    try:
        doc = await customers.upsert_customer(upsert)
    except InvalidMessage as exc:
        raise http_error(exc) from exc
    return {"customer_id": doc["_id"]}


@router.post(
    "/customers/merges/{merge_id}/undo", tags=["customers"], summary="Undo a customer merge"
)
async def undo_merge(merge_id: str, customers: CustomersDep, lead: Lead) -> dict[str, Any]:
    try:
        merge = await customers.undo_merge(merge_id, by=lead.actor_id)
    except MergeNotFound as exc:
        raise HTTPException(status_code=404, detail=f"no merge {merge_id}") from exc
    return {
        "merge_id": merge["_id"],
        "restored": merge["merged"],
        "undone_at": merge["undone_at"],
        "undone_by": merge.get("undone_by"),
    }


@router.post(
    "/customers/suggestions/{suggestion_id}/{decision}",
    response_model=SuggestedMerge,
    tags=["customers"],
    summary="Decide a suggested merge: `confirm` (one person: merged, the older survives) or "
    "`dismiss` (not the same person: it is not suggested again)",
    responses={404: {"description": "no such suggestion"}, 409: {"description": "not open"}},
)
async def decide_suggestion(
    suggestion_id: Annotated[str, Path(max_length=64)],
    decision: Literal["confirm", "dismiss"],
    customers: CustomersDep,
    agent: Staff,
) -> SuggestedMerge:
    decide = customers.confirm_suggestion if decision == "confirm" else customers.dismiss_suggestion
    try:
        return suggested(await decide(suggestion_id, by=agent.actor_id))
    except (SuggestionNotFound, SuggestionClosed) as exc:
        raise http_error(exc) from exc


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
    selfservice: SelfServiceDep,
    reader: Staff,
    request: Request,
    response: Response,
    page: Annotated[PageRequest, Depends(page_params)],
) -> list[ArticleView]:
    articles, more = page_of_list(selfservice.articles, lambda a: a.article_id, page)
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
    kb: KbDep,
    selfservice: SelfServiceDep,
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
    await kb.put(article, utcnow(), by=lead.actor_id)
    selfservice.use_articles(await kb.all())
    return ArticleView(article_id=article_id, **body.model_dump())
