"""router's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from s8_router.adapters.handlers import register_handlers
from s8_router.api import router
from s8_router.settings import RouterSettings
from s8_shared.projections import TicketProjection
from s8_shared.runtime import ServiceRuntime

TITLE = "s8 router"
DESCRIPTION = "Assigns tickets to agents by skill, priority, capacity and presence; queues what it cannot place."


def build(settings: RouterSettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or RouterSettings()
    runtime = ServiceRuntime(settings, title=TITLE, description=DESCRIPTION)
    projection = TicketProjection(runtime.store)
    register_handlers(runtime, projection)
    app = runtime.http_app(router)
    app.state.projection = projection
    return runtime, app
