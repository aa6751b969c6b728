"""The survey pages: one message catalogue per language, rendered from autoescaped
templates; the page routes on an in-memory store (the real stack and a browser are in
tests/test_survey_flows.py and tests/test_survey_page_browser.py)."""

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from s8_shared.contracts import Language
from s8_shared.data_files import DataFileError, load_model, read_yaml
from s8_shared.nlp import sentiment
from s8_survey.adapters.memory_store import InMemorySurveyStore
from s8_survey.api import pages as page_routes
from s8_survey.catalogue import MESSAGES_DIR, catalogue_path, load_catalogues
from s8_survey.domain.rules import SurveyPolicy
from s8_survey.domain.tokens import sign
from s8_survey.metrics import SurveyMetrics
from s8_survey.pages import SurveyPages
from s8_survey.service import SurveyService
from s8_testing.builders import T0
from s8_testing.fakes import RecordingPublisher

CATALOGUES = load_catalogues()
PAGES = SurveyPages(CATALOGUES)
KEY = b"k" * 32
HOSTILE = """</textarea><script>alert("x")</script><b onclick='y'>"""


def keys(tree: Any, prefix: str = "") -> set[str]:
    """Every key path of a YAML document (`refused.expired`, `csat_labels[]`)."""
    if isinstance(tree, dict):
        return {p for k, v in tree.items() for p in keys(v, f"{prefix}{k}.")} | {
            f"{prefix}{k}" for k in tree
        }
    if isinstance(tree, list):
        return {f"{prefix}[{len(tree)}]"} | {p for v in tree for p in keys(v, prefix)}
    return set()


def test_every_language_has_a_catalogue_with_the_same_keys() -> None:
    trees = {lang.value: read_yaml(catalogue_path(lang.value)) for lang in Language}
    assert set(trees) == {"vi", "en"}
    assert keys(trees["vi"]) == keys(trees["en"])
    assert "refused.already_answered" in keys(trees["vi"])
    assert sorted(p.stem for p in MESSAGES_DIR.glob("*.yaml")) == ["en", "vi"]


def test_a_catalogue_missing_a_text_fails_at_load(tmp_path: Path) -> None:
    for lang in ("vi", "en"):
        text = catalogue_path(lang).read_text(encoding="utf-8")
        (tmp_path / f"{lang}.yaml").write_text(text.replace("thanks_body:", "thanks_bdy:"), "utf-8")
    with pytest.raises(DataFileError, match="thanks_body"):
        load_catalogues(tmp_path)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_each_language_renders_its_own_catalogue(lang: str) -> None:
    own, other = CATALOGUES[lang], CATALOGUES["en" if lang == "vi" else "vi"]
    csat = PAGES.form(lang, "csat", "T-1", "/s/x")
    assert f'<html lang="{lang}">' in csat
    for text in (own.title, own.csat_question, own.submit, *own.csat_labels):
        assert str(text).replace("'", "&#39;") in csat
    assert f'aria-label="4 – {own.csat_labels[3]}"' in csat
    assert f"{own.ticket} [#T-1]" in csat
    assert other.csat_question not in csat
    nps = PAGES.form(lang, "nps", None, "/s/x")
    assert own.nps_question in nps
    assert f"0 = {own.nps_low}" in nps
    assert f"10 = {own.nps_high}" in nps
    assert nps.count('name="score"') == 11
    thanks = PAGES.thanks(lang)
    assert f'<h1 role="status">{own.thanks}</h1>' in thanks
    assert own.thanks_body in thanks
    refused = PAGES.refused(lang, "expired")
    assert f'role="alert">{own.refused.expired}</p>' in refused


def test_an_unknown_language_or_reason_reads_as_vietnamese_and_an_invalid_link() -> None:
    page = PAGES.refused("fr", "something new")
    assert 'lang="vi"' in page
    assert CATALOGUES["vi"].refused.forged in page
    assert "đã được trả lời" in PAGES.refused("vi", "already answered")


def test_a_customer_comment_with_markup_and_quotes_is_escaped() -> None:
    page = PAGES.form("en", "csat", 'T-"1"<i>', '/s/a"b', error="<em>bad</em>", comment=HOSTILE)
    assert "<script>" not in page
    assert "</textarea><script>" not in page
    assert "&lt;/textarea&gt;&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "onclick=&#39;y&#39;" in page
    assert "[#T-&#34;1&#34;&lt;i&gt;]" in page
    assert 'action="/s/a&#34;b"' in page
    assert "&lt;em&gt;bad&lt;/em&gt;" in page
    assert page.count("<textarea") == 1


# --- the page routes, on an in-memory store -----------------------------------------------


@pytest.fixture
async def survey() -> AsyncIterator[tuple[httpx.AsyncClient, InMemorySurveyStore]]:
    store, ticks = InMemorySurveyStore(), itertools.count()
    service = SurveyService(
        store=store,
        publisher=RecordingPublisher(),
        policy=SurveyPolicy(answer_grace=timedelta(0)),
        hmac_key=KEY,
        base_url="http://survey",
        metrics=SurveyMetrics(CollectorRegistry()),
        catalogues=CATALOGUES,
        lexicon=load_model(sentiment.DEFAULT_LEXICON_PATH, sentiment.Lexicon),
        clock=lambda: T0 + timedelta(seconds=next(ticks)),  # a second passes at each look
    )
    app = FastAPI()
    app.include_router(page_routes)
    app.state.survey, app.state.pages = service, PAGES
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://survey"
    ) as http:
        yield http, store


async def sent(store: InMemorySurveyStore, survey_id: str, language: str = "vi") -> str:
    """A sent CSAT survey; its link's path."""
    expires = T0 + timedelta(days=14)
    await store.schedule(
        {
            "_id": survey_id,
            "kind": "csat",
            "ticket_id": "T-1",
            "customer_id": "C-1",
            "channel": "email",
            "to": "lan@example.vn",
            "language": language,
            "state": "sent",
            "send_at": T0,
            "expires_at": expires,
            "revision": 0,
        }
    )
    return f"/s/{sign(survey_id, expires, KEY)}"


FORM = {"content-type": "application/x-www-form-urlencoded"}


async def test_a_form_without_a_score_comes_back_with_the_comment_escaped(
    survey: tuple[httpx.AsyncClient, InMemorySurveyStore],
) -> None:
    http, store = survey
    path = await sent(store, "S-1")
    body = httpx.QueryParams({"comment": HOSTILE})
    page = await http.post(path, content=str(body).encode(), headers=FORM)
    assert page.status_code == 422
    assert "Vui lòng chọn một mức điểm." in page.text
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert store.surveys["S-1"]["revision"] == 0


async def test_the_page_takes_one_answer_in_the_surveys_language(
    survey: tuple[httpx.AsyncClient, InMemorySurveyStore],
) -> None:
    http, store = survey
    path = await sent(store, "S-2", language="en")
    form = await http.get(path)
    assert form.status_code == 200
    assert 'lang="en"' in form.text
    assert "How satisfied are you with our support?" in form.text
    out_of_range = await http.post(path, content=b"score=9", headers=FORM)
    assert out_of_range.status_code == 422
    assert "score must be 1..5 for csat" in out_of_range.text
    thanks = await http.post(path, content=b"score=4&comment=Fast", headers=FORM)
    assert thanks.status_code == 200
    assert "Thank you for your feedback!" in thanks.text
    assert store.surveys["S-2"]["score"] == 4
    again = await http.post(path, content=b"score=5", headers=FORM)
    assert again.status_code == 409
    assert "already been answered" in again.text
    assert (await http.get(path)).status_code == 409


async def test_forged_expired_and_unknown_links_are_refused_with_their_status(
    survey: tuple[httpx.AsyncClient, InMemorySurveyStore],
) -> None:
    http, store = survey
    path = await sent(store, "S-3")
    forged = await http.get(path[:-3] + "abc")
    assert (forged.status_code, "không hợp lệ" in forged.text) == (403, True)
    expired = await http.get(f"/s/{sign('S-3', T0 - timedelta(seconds=1), KEY)}")
    assert (expired.status_code, "hết hạn" in expired.text) == (410, True)
    missing = await http.post(f"/s/{sign('S-none', T0 + timedelta(days=1), KEY)}", headers=FORM)
    assert (missing.status_code, "Không tìm thấy" in missing.text) == (404, True)
    assert (await http.get("/s/not-a-token")).status_code == 400
