"""Survey HTTP: the customer pages (`/s/{token}`) and the JSON API for staff and channels."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from s8_shared.contracts import utcnow
from s8_shared.identity import Principal
from s8_shared.identity.http import require
from s8_survey.domain.rules import AnswerRefused
from s8_survey.domain.tokens import TokenRefused, verify
from s8_survey.pages import form_page, language_of, refused_page, thanks_page
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


ServiceDep = Annotated[SurveyService, Depends(get_service)]


async def _survey_for(token: str, service: SurveyService) -> dict[str, Any]:
    try:
        parsed = verify(token, service.key, utcnow())
    except TokenRefused as refused:
        raise _RefusedPage("vi", refused.reason) from refused
    doc = await service.store.get(parsed.survey_id)
    if doc is None:
        raise _RefusedPage("vi", "missing")
    return doc


class _RefusedPage(Exception):
    def __init__(self, lang: str, reason: str) -> None:
        self.lang = lang
        self.reason = reason


def _refused(lang: str, reason: str) -> HTMLResponse:
    return HTMLResponse(refused_page(lang, reason), status_code=REFUSED_STATUS.get(reason, 400))


@pages.get("/s/{token}", response_class=HTMLResponse, summary="The survey page a customer opens")
async def survey_page(token: str, service: ServiceDep) -> HTMLResponse:
    try:
        doc = await _survey_for(token, service)
    except _RefusedPage as page:
        return _refused(page.lang, page.reason)
    lang = language_of(doc.get("language"))
    if doc.get("answered_at") and (utcnow() - doc["answered_at"]) > service.policy.answer_grace:
        return _refused(lang, "already answered")
    return HTMLResponse(form_page(lang, doc["kind"], doc.get("ticket_id"), f"/s/{token}"))


@pages.post("/s/{token}", response_class=HTMLResponse, summary="A customer submits the survey form")
async def survey_submit(token: str, request: Request, service: ServiceDep) -> HTMLResponse:
    try:
        doc = await _survey_for(token, service)
    except _RefusedPage as refused_page_:
        return _refused(refused_page_.lang, refused_page_.reason)
    lang = language_of(doc.get("language"))
    form = parse_qs((await request.body()).decode("utf-8", errors="replace")[:10_000])
    raw_score = (form.get("score") or [""])[0]
    if not raw_score.strip().lstrip("-").isdigit():
        page = form_page(
            lang, doc["kind"], doc.get("ticket_id"), f"/s/{token}", error=_text(lang, "score")
        )
        return HTMLResponse(page, status_code=422)
    try:
        comment = form.get("comment")
        await service.answer(doc["_id"], int(raw_score), comment[0] if comment else None)
    except AnswerRefused as refused:
        reason = "already answered" if refused.reason == "already answered" else "score"
        if reason == "score":
            page = form_page(
                lang, doc["kind"], doc.get("ticket_id"), f"/s/{token}", error=refused.reason
            )
            return HTMLResponse(page, status_code=422)
        return _refused(lang, reason)
    return HTMLResponse(thanks_page(lang))


def _text(lang: str, key: str) -> str:
    from s8_survey.pages import TEXT

    refused: dict[str, str] = TEXT[lang]["refused"]  # type: ignore[assignment]
    return refused[key]


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
    doc = await service.store.get(survey_id)
    if doc is None:
        raise HTTPException(status_code=404, detail=f"no survey {survey_id}")
    doc["survey_id"] = doc.pop("_id")
    return doc


@api.get("/surveys", summary="Response rates: surveys sent and answered, by kind")
async def survey_rates(
    service: ServiceDep, reader: Annotated[Principal, require("lead", "admin", "analyst")]
) -> dict[str, Any]:
    rates = await service.store.rates()
    out: dict[str, Any] = {}
    for kind, states in rates.items():
        sent = states.get("sent", 0) + states.get("answered", 0)
        answered = states.get("answered", 0)
        out[kind] = {
            "scheduled": states.get("scheduled", 0),
            "sent": sent,
            "answered": answered,
            "response_rate": answered / sent if sent else None,
        }
    return out
