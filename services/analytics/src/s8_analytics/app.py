"""analytics's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from s8_analytics.adapters.handlers import register_handlers
from s8_analytics.api import router
from s8_analytics.settings import AnalyticsSettings
from s8_shared.projections import TicketProjection
from s8_shared.runtime import ServiceRuntime

TITLE = "s8 analytics"
DESCRIPTION = (
    "Builds support KPIs (CSAT, NPS, FRT, resolution time, FCR, AHT, SLA compliance, backlog)."
)


def build(settings: AnalyticsSettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or AnalyticsSettings()
    runtime = ServiceRuntime(settings, title=TITLE, description=DESCRIPTION)
    projection = TicketProjection(runtime.store)
    register_handlers(runtime, projection)
    app = runtime.http_app(router)
    app.state.projection = projection
    return runtime, app
