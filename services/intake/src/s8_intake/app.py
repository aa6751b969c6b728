"""Intake's composition root: real adapters wired to the service."""

from __future__ import annotations

from fastapi import FastAPI

from s8_intake.adapters.handlers import register_handlers
from s8_intake.adapters.repository import MongoTicketRepository
from s8_intake.api import router
from s8_intake.service import IntakeService
from s8_intake.settings import IntakeSettings
from s8_shared import topics
from s8_shared.contracts import TicketEvent
from s8_shared.runtime import ServiceRuntime

TITLE = "s8 intake"
DESCRIPTION = (
    "Normalizes every channel's customer messages into canonical ticket events "
    "(`support.inbound.v1` → `support.tickets.v1`)."
)


def build(settings: IntakeSettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or IntakeSettings()
    runtime = ServiceRuntime(settings, title=TITLE, description=DESCRIPTION)
    runtime.add_indexes(*MongoTicketRepository.INDEXES)
    service = IntakeService(MongoTicketRepository(runtime.store), runtime.publisher)
    register_handlers(runtime, service)
    runtime.publisher.document(topics.TICKETS, TicketEvent)
    app = runtime.http_app(router)
    app.state.intake = service
    return runtime, app
