"""survey's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from s8_shared.projections import TicketProjection
from s8_shared.runtime import ServiceRuntime
from s8_survey.adapters.handlers import register_handlers
from s8_survey.settings import SurveySettings

TITLE = "s8 survey"
DESCRIPTION = "Sends CSAT after resolution and NPS on a cadence, and takes the answers."


def build(settings: SurveySettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or SurveySettings()
    runtime = ServiceRuntime(settings, title=TITLE, description=DESCRIPTION)
    projection = TicketProjection(runtime.store)
    register_handlers(runtime, projection)
    app = runtime.http_app()
    app.state.projection = projection
    return runtime, app
