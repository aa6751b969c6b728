"""Survey service's composition root."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from s8_shared import topics
from s8_shared.contracts import OutboundMessageRequested, SurveyEvent
from s8_shared.data_files import load_model
from s8_shared.nlp import sentiment
from s8_shared.runtime import ServiceRuntime
from s8_survey.adapters.handlers import register_handlers
from s8_survey.adapters.survey_store import SurveyStore
from s8_survey.api import api, pages
from s8_survey.catalogue import load_catalogues
from s8_survey.domain.rules import SurveyPolicy
from s8_survey.metrics import SurveyMetrics
from s8_survey.pages import SurveyPages
from s8_survey.service import SurveyService
from s8_survey.settings import SurveySettings

TITLE = "s8 survey"
DESCRIPTION = (
    "Sends CSAT after resolution and NPS on a cadence with signed links, serves the response "
    "page, takes answers once, and asks for a follow-up when a customer is unhappy."
)
SEND_EVERY_SECONDS = 1.0


def build(settings: SurveySettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or SurveySettings()
    runtime = ServiceRuntime(settings, title=TITLE, description=DESCRIPTION)
    runtime.add_indexes(*SurveyStore.INDEXES)
    catalogues = load_catalogues()  # a missing or misspelt text fails here, at start
    service = SurveyService(
        store=SurveyStore(runtime.store),
        publisher=runtime.publisher,
        policy=policy_of(settings),
        hmac_key=settings.survey_hmac_key.get_secret_value().encode(),
        base_url=settings.public_base_url,
        metrics=SurveyMetrics(runtime.registry),
        catalogues=catalogues,
        lexicon=load_model(sentiment.DEFAULT_LEXICON_PATH, sentiment.Lexicon),
    )
    register_handlers(runtime, service)
    runtime.publisher.document(topics.SURVEYS, SurveyEvent)
    runtime.publisher.document(topics.OUTBOUND, OutboundMessageRequested)
    runtime.every(SEND_EVERY_SECONDS, service.send_due, "survey sender")
    runtime.every(settings.outbox_sweep_seconds, service.sweep_outboxes, "survey outbox sweep")
    app = runtime.http_app(pages, api)
    app.state.survey = service
    app.state.pages = SurveyPages(catalogues)
    app.state.settings = settings
    return runtime, app


def policy_of(settings: SurveySettings) -> SurveyPolicy:
    return SurveyPolicy(
        csat_delay=timedelta(seconds=settings.csat_delay_seconds),
        csat_throttle=timedelta(days=settings.csat_throttle_days),
        csat_sampling=settings.csat_sampling,
        nps_cadence=timedelta(days=settings.nps_cadence_days),
        link_lifetime=timedelta(days=settings.link_lifetime_days),
        answer_grace=timedelta(minutes=settings.answer_grace_minutes),
    )
