"""Analytics' composition root."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI

from s8_analytics.adapters.facts import FactStore
from s8_analytics.adapters.handlers import register_handlers
from s8_analytics.api import router
from s8_analytics.metrics import KpiGauges, TicketMetrics
from s8_analytics.service import AnalyticsService
from s8_analytics.settings import AnalyticsSettings
from s8_shared.business_time.calendar import DEFAULT_CALENDARS_PATH, CalendarsDocument
from s8_shared.contracts import utcnow
from s8_shared.data_files import load_model
from s8_shared.projections import TicketProjection
from s8_shared.runtime import ServiceRuntime

TITLE = "s8 analytics"
DESCRIPTION = (
    "Builds support KPIs (CSAT, NPS, FRT, resolution time, FCR, AHT, SLA compliance, backlog)."
)


def build(
    settings: AnalyticsSettings | None = None, clock: Callable[[], datetime] = utcnow
) -> tuple[ServiceRuntime, FastAPI]:
    """`clock` is what "now" means for rolling windows and backlog ages."""
    settings = settings or AnalyticsSettings()
    runtime = ServiceRuntime(settings, title=TITLE, description=DESCRIPTION)
    projection = TicketProjection(runtime.store)
    facts = FactStore(runtime.store)
    runtime.add_indexes(*TicketProjection.INDEXES, *FactStore.INDEXES)
    service = AnalyticsService(
        facts=facts, tickets=projection, metrics=TicketMetrics(runtime.registry)
    )
    register_handlers(runtime, service, writes=projection.writes)
    gauges = KpiGauges(runtime.registry, facts, clock)
    runtime.every(30.0, gauges.refresh, "KPI gauges")
    app = runtime.http_app(router)
    app.state.projection = projection
    app.state.facts = facts
    app.state.gauges = gauges
    app.state.clock = clock
    calendars = load_model(DEFAULT_CALENDARS_PATH, CalendarsDocument, empty={})
    app.state.calendars = calendars.calendars_by_id
    return runtime, app
