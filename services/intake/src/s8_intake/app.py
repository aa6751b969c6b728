"""Intake's composition root: real adapters wired to the service."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI

from s8_intake.adapters.agent_directory import AgentDirectory
from s8_intake.adapters.compensation_handlers import register_compensation_handlers
from s8_intake.adapters.compensation_store import CompensationStore
from s8_intake.adapters.customer_store import CustomerStore
from s8_intake.adapters.data_files import DEFAULT_ARTICLES_PATH, load_articles, load_limits
from s8_intake.adapters.handlers import register_handlers
from s8_intake.adapters.kb_store import KbStore
from s8_intake.adapters.message_store import MessageStore
from s8_intake.adapters.problem_store import ProblemStore
from s8_intake.adapters.ticket_holders import TicketHolders, register_holder_handlers
from s8_intake.adapters.ticket_store import TicketStore
from s8_intake.api import router
from s8_intake.api_compensation import router as compensation_router
from s8_intake.api_problems import router as problems_router
from s8_intake.compensation import CompensationDesk, CompensationMetrics
from s8_intake.domain.threading import ThreadingPolicy
from s8_intake.intake_metrics import IntakeMetrics
from s8_intake.problems import ProblemDesk
from s8_intake.selfservice import SelfService, SelfServiceConfig
from s8_intake.service import IntakeService
from s8_intake.settings import IntakeSettings
from s8_shared import topics
from s8_shared.contracts import OutboundMessageRequested, TicketEvent, utcnow
from s8_shared.contracts.compensation import (
    CompensationApprovalRequested,
    CompensationGranted,
    CompensationRejected,
)
from s8_shared.contracts.problems import ProblemEvent
from s8_shared.runtime import ServiceRuntime

TITLE = "s8 intake"
DESCRIPTION = (
    "Normalizes every channel's customer messages into canonical ticket events: threading, "
    "one customer across channels, dedup, priority, sentiment, FAQ auto-replies "
    "(`support.inbound.v1` → `support.tickets.v1`, `support.outbound.v1`)."
)
OUTBOX_SWEEP_SECONDS = 15.0
COMPENSATION_SWEEP_SECONDS = 15.0
OUTREACH_TICK_SECONDS = 1.0


def build(settings: IntakeSettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or IntakeSettings()
    runtime = ServiceRuntime(settings, title=TITLE, description=DESCRIPTION)
    runtime.add_indexes(*TicketStore.INDEXES, *MessageStore.INDEXES, *CustomerStore.INDEXES)
    kb = KbStore(runtime.store)
    selfservice = SelfService(
        SelfServiceConfig(
            rules_path=settings.rules_path,
            faq_threshold=settings.faq_threshold,
            threading_policy=ThreadingPolicy(
                reopen_window=timedelta(days=settings.reopen_window_days),
                callback_window=timedelta(minutes=settings.callback_window_minutes),
            ),
        ),
        articles=[],
    )
    service = IntakeService(
        tickets=TicketStore(runtime.store),
        messages=MessageStore(runtime.store),
        customers=CustomerStore(runtime.store),
        selfservice=selfservice,
        publisher=runtime.publisher,
        metrics=IntakeMetrics(runtime.registry),
        own_addresses=frozenset(a.lower() for a in settings.own_addresses),
    )

    async def load_knowledge_base() -> None:
        await kb.seed(load_articles(DEFAULT_ARTICLES_PATH), utcnow())
        selfservice.articles = await kb.all()

    runtime.on_start(load_knowledge_base)
    runtime.every(OUTBOX_SWEEP_SECONDS, service.sweep_outboxes, "outbox sweep")
    problems = ProblemDesk(
        problems=ProblemStore(runtime.store),
        intake=service,
        notices_per_tick=max(1, round(settings.problem_notices_per_second * OUTREACH_TICK_SECONDS)),
    )
    service.problems = problems
    runtime.add_indexes(*ProblemStore.INDEXES)
    runtime.every(OUTREACH_TICK_SECONDS, problems.run_outreach, "problem outreach")
    runtime.every(OUTBOX_SWEEP_SECONDS, problems.sweep, "problem outbox sweep")
    register_handlers(runtime, service)
    directory = AgentDirectory(runtime.store)
    holders = TicketHolders(runtime.store)
    register_holder_handlers(runtime, holders)
    compensation = CompensationDesk(
        limits=load_limits(settings.compensation_limits_path),
        store=CompensationStore(runtime.store),
        agents=directory,
        publisher=service,  # counts what it publishes, like the ticket outboxes
        metrics=CompensationMetrics(runtime.registry),
        holders=holders,
    )
    service.compensation = compensation
    runtime.add_indexes(*CompensationStore.INDEXES)
    runtime.every(COMPENSATION_SWEEP_SECONDS, compensation.sweep, "compensation outbox sweep")
    register_compensation_handlers(runtime, directory)
    runtime.publisher.document(
        topics.TICKETS,
        TicketEvent | CompensationGranted | CompensationApprovalRequested | CompensationRejected,
    )
    runtime.publisher.document(topics.OUTBOUND, OutboundMessageRequested)
    runtime.publisher.document(topics.PROBLEMS, ProblemEvent)
    app = runtime.http_app(router, problems_router, compensation_router)
    app.state.compensation = compensation
    app.state.intake = service
    app.state.problems = problems
    app.state.settings = settings
    app.state.kb = kb
    return runtime, app
