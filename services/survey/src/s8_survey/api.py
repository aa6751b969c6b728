"""Survey HTTP: the customer pages (`/s/{token}`) and the JSON API for staff and channels."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from s8_shared.identity import Principal
from s8_shared.identity.http import require
from s8_survey.domain.rules import AnswerRefused
from s8_survey.domain.tokens import TokenRefused
from s8_survey.pages import SurveyPages
from s8_survey.service import SurveyNotFound, SurveyService

pages = APIRouter(tags=["survey pages"], include_in_schema=True)
api = APIRouter(prefix="/v1", tags=["surveys"])
Readers = Annotated[Principal, require("agent", "lead", "admin", "analyst")]
REFUSED_STATUS = {
    "forged": 403,
    "malformed": 400,
    "expired": 410,
    "already answered": 409,
    "missing": 404,
}


def get_service(request: Request) -> SurveyService:
    service: SurveyService = request.app.state.survey
    return service


def get_pages(request: Request) -> SurveyPages:
    pages_: SurveyPages = request.app.state.pages
    return pages_


ServiceDep = Annotated[SurveyService, Depends(get_service)]
PagesDep = Annotated[SurveyPages, Depends(get_pages)]


def _refused(render: SurveyPages, lang: str, reason: str) -> HTMLResponse:
    page = render.refused(lang, reason)
    return HTMLResponse(page, status_code=REFUSED_STATUS.get(reason, 400))


async def _open(token: str, service: SurveyService) -> dict[str, Any] | str:
    """The survey a link names, or why the link is refused (a link's page is in Vietnamese
    until the survey, with its language, is found)."""
    try:
        return await service.open_link(token)
    except TokenRefused as refused:
        return refused.reason
    except SurveyNotFound:
        return "missing"


@pages.get("/s/{token}", response_class=HTMLResponse, summary="The survey page a customer opens")
async def survey_page(token: str, service: ServiceDep, render: PagesDep) -> HTMLResponse:
    doc = await _open(token, service)
    if isinstance(doc, str):
        return _refused(render, "vi", doc)
    lang = render.language_of(doc.get("language"))
    if service.is_final(doc):
        return _refused(render, lang, "already answered")
    return HTMLResponse(render.form(lang, doc["kind"], doc.get("ticket_id"), f"/s/{token}"))


@pages.post("/s/{token}", response_class=HTMLResponse, summary="A customer submits the survey form")
async def survey_submit(
    token: str, request: Request, service: ServiceDep, render: PagesDep
) -> HTMLResponse:
    doc = await _open(token, service)
    if isinstance(doc, str):
        return _refused(render, "vi", doc)
    lang = render.language_of(doc.get("language"))
    form = parse_qs((await request.body()).decode("utf-8", errors="replace")[:10_000])
    raw_score = (form.get("score") or [""])[0]
    comments = form.get("comment")
    comment = comments[0] if comments else None

    def again(error: str) -> HTMLResponse:  # the form with the reason and what was typed
        page = render.form(
            lang, doc["kind"], doc.get("ticket_id"), f"/s/{token}", error=error, comment=comment
        )
        return HTMLResponse(page, status_code=422)

    if not raw_score.strip().lstrip("-").isdigit():
        return again(render.refusal_text(lang, "score"))
    try:
        await service.answer(doc["_id"], int(raw_score), comment)
    except AnswerRefused as refused:
        if refused.reason == "already answered":
            return _refused(render, lang, refused.reason)
        return again(refused.reason)
    return HTMLResponse(render.thanks(lang))


class AnswerBody(BaseModel):
    score: int = Field(description="CSAT 1..5 or NPS 0..10.")
    comment: str | None = Field(default=None, max_length=2000)


@api.post(
    "/surveys/{survey_id}/answers", summary="An answer collected by a channel (chat rating buttons)"
)
async def post_answer(
    survey_id: str,
    body: AnswerBody,
    service: ServiceDep,
    caller: Annotated[Principal, require("channel", "service")],
) -> dict[str, Any]:
    try:
        doc = await service.answer(survey_id, body.score, body.comment)
    except SurveyNotFound as exc:
        raise HTTPException(status_code=404, detail=f"no survey {survey_id}") from exc
    except AnswerRefused as refused:
        status = 409 if refused.reason == "already answered" else 422
        raise HTTPException(status_code=status, detail=refused.reason) from refused
    return {"survey_id": survey_id, "score": doc["score"], "revision": doc["revision"]}


@api.get("/surveys/{survey_id}", summary="A survey with its state and answer (support staff)")
async def get_survey(survey_id: str, service: ServiceDep, reader: Readers) -> dict[str, Any]:
    try:
        doc = await service.survey(survey_id)
    except SurveyNotFound as exc:
        raise HTTPException(status_code=404, detail=f"no survey {survey_id}") from exc
    doc["survey_id"] = doc.pop("_id")
    return doc


@api.get("/surveys", summary="Response rates: surveys sent and answered, by kind")
async def survey_rates(
    service: ServiceDep, reader: Annotated[Principal, require("lead", "admin", "analyst")]
) -> dict[str, Any]:
    return await service.response_rates()
