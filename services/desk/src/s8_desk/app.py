"""Desk's composition root."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from s8_desk.adapters.canned_store import CannedStore
from s8_desk.adapters.desk_store import DeskStore
from s8_desk.adapters.handlers import register_handlers
from s8_desk.adapters.owners import Owners
from s8_desk.api import api
from s8_desk.api_canned import canned
from s8_desk.api_writes import writes
from s8_desk.metrics import DeskMetrics
from s8_desk.pages import pages
from s8_desk.service import DeskService
from s8_desk.settings import DeskSettings
from s8_desk.stream import Hub
from s8_desk.views import DeskViews
from s8_shared.contracts import utcnow
from s8_shared.contracts.desk import Notice
from s8_shared.runtime import ServiceRuntime

TITLE = "s8 desk"
DESCRIPTION = (
    "The agents' side: views ordered by SLA, search, a ticket's whole story and a live "
    "stream per agent, built from the topics (it asks no other service for data)."
)


def build(settings: DeskSettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or DeskSettings()
    runtime = ServiceRuntime(settings, title=TITLE, description=DESCRIPTION)
    runtime.add_indexes(*DeskStore.INDEXES, *CannedStore.INDEXES)
    store = DeskStore(runtime.store)
    metrics = DeskMetrics(runtime.registry)

    def handed(notice: Notice) -> None:
        metrics.notices.labels(notice.kind).inc()
        metrics.delivery.observe(max(0.0, (utcnow() - notice.at).total_seconds()))

    hub = Hub(store, handed=handed)
    register_handlers(runtime, DeskService(store))

    async def push() -> None:
        await hub.tick()
        metrics.streams.set(hub.connections())

    runtime.every(settings.stream_poll_seconds, push, "stream push")
    client = httpx.AsyncClient()
    runtime.on_stop(client.aclose)
    app = runtime.http_app(api, writes, canned, pages)
    app.state.views = DeskViews(store)
    app.state.hub = hub
    app.state.canned = CannedStore(runtime.store)
    app.state.owners = Owners(settings.intake_url, settings.router_url, client)
    return runtime, app
