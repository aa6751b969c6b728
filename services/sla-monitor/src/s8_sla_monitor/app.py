"""SLA monitor's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from s8_shared import topics
from s8_shared.contracts import SlaEvent
from s8_shared.projections import TicketProjection
from s8_shared.runtime import ServiceRuntime
from s8_sla_monitor.adapters.clock_store import ClockStore
from s8_sla_monitor.adapters.config_store import ConfigStore
from s8_sla_monitor.adapters.handlers import register_handlers
from s8_sla_monitor.api import router
from s8_sla_monitor.config import SlaConfig, read_seed
from s8_sla_monitor.metrics import SlaMetrics
from s8_sla_monitor.service import SlaService
from s8_sla_monitor.settings import SlaMonitorSettings

TITLE = "s8 sla-monitor"
DESCRIPTION = (
    "Keeps durable SLA clocks (first response, next response, resolution) in business time "
    "and fires warnings and breaches at their due moment on `support.sla.v1`."
)


def build(settings: SlaMonitorSettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or SlaMonitorSettings()
    runtime = ServiceRuntime(settings, title=TITLE, description=DESCRIPTION)
    runtime.add_indexes(*ClockStore.INDEXES, *TicketProjection.INDEXES)
    seed_policies, seed_calendars = read_seed(settings.policies_path, settings.calendars_path)
    config = SlaConfig(ConfigStore(runtime.store), seed_policies, seed_calendars)
    clock_store = ClockStore(runtime.store)
    projection = TicketProjection(runtime.store)
    service = SlaService(
        clocks=clock_store,
        tickets=projection,
        publisher=runtime.publisher,
        policies=lambda: config.policies,
        calendars=lambda: config.calendars,
        metrics=SlaMetrics(runtime.registry),
    )
    runtime.on_start(config.load)
    register_handlers(runtime, service, writes=projection.writes)
    runtime.publisher.document(topics.SLA, SlaEvent)
    runtime.every(settings.scheduler_interval_seconds, service.fire_due_clocks, "SLA scheduler")
    runtime.every(settings.config_refresh_seconds, config.refresh, "policy refresh")
    runtime.every(15.0, service.refresh_gauges, "open clock gauges")
    runtime.every(settings.outbox_sweep_seconds, service.sweep_outboxes, "SLA outbox sweep")
    app = runtime.http_app(router)
    app.state.sla = service
    app.state.config = config
    app.state.clock_store = clock_store
    return runtime, app
