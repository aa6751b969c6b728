"""sla-monitor's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from s8_shared.projections import TicketProjection
from s8_shared.runtime import ServiceRuntime
from s8_sla_monitor.adapters.handlers import register_handlers
from s8_sla_monitor.settings import SlaMonitorSettings

TITLE = "s8 sla-monitor"
DESCRIPTION = "Keeps durable SLA clocks in business time and emits warning and breach events."


def build(settings: SlaMonitorSettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or SlaMonitorSettings()
    runtime = ServiceRuntime(settings, title=TITLE, description=DESCRIPTION)
    projection = TicketProjection(runtime.store)
    register_handlers(runtime, projection)
    app = runtime.http_app()
    app.state.projection = projection
    return runtime, app
