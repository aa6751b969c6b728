"""Intake's composition root: the real adapters, and each application service built once
with the ports it needs."""

from __future__ import annotations

from dataclasses import dataclass
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
from s8_intake.api_customers import router as customers_router
from s8_intake.api_problems import router as problems_router
from s8_intake.domain.threading import ThreadingPolicy
from s8_intake.metrics import IntakeMetrics
from s8_intake.selfservice import SelfService, SelfServiceConfig
from s8_intake.service.accepting import Accepting
from s8_intake.service.actions import Actions
from s8_intake.service.compensation import CompensationDesk, CompensationMetrics
from s8_intake.service.customers import CustomerDesk
from s8_intake.service.followups import FollowUps
from s8_intake.service.outreach import Outreach
from s8_intake.service.problems import KnownProblems, ProblemDesk
from s8_intake.service.publishing import OutboxPublisher
from s8_intake.service.wiring import message_services
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


@dataclass(frozen=True)
class IntakeServices:
    """Every application service of one intake (`app.state.intake`), for the API's
    dependencies and for tests."""

    accepting: Accepting
    actions: Actions
    customers: CustomerDesk
    followups: FollowUps
    problems: ProblemDesk
    outreach: Outreach
    compensation: CompensationDesk
    publishing: OutboxPublisher
    tickets: TicketStore
    messages: MessageStore
    selfservice: SelfService
    kb: KbStore


def build(settings: IntakeSettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or IntakeSettings()
    runtime = ServiceRuntime(settings, title=TITLE, description=DESCRIPTION)
    tickets = TicketStore(runtime.store)
    messages = MessageStore(runtime.store)
    customers = CustomerStore(runtime.store)
    problem_store = ProblemStore(runtime.store)
    offers = CompensationStore(runtime.store)
    runtime.add_indexes(
        *TicketStore.INDEXES,
        *MessageStore.INDEXES,
        *CustomerStore.INDEXES,
        *ProblemStore.INDEXES,
        *CompensationStore.INDEXES,
    )
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
    metrics = IntakeMetrics(runtime.registry)
    publishing = OutboxPublisher(
        publisher=runtime.publisher, tickets=tickets, published=metrics.published
    )
    known_problems = KnownProblems(problem_store)
    directory = AgentDirectory(runtime.store)
    holders = TicketHolders(runtime.store)
    compensation = CompensationDesk(
        limits=load_limits(settings.compensation_limits_path),
        store=offers,
        agents=directory,
        publisher=publishing,  # counts what it publishes, like the ticket outboxes
        metrics=CompensationMetrics(runtime.registry),
        holders=holders,
    )
    handling = message_services(
        tickets=tickets,
        messages=messages,
        customers=customers,
        understanding=selfservice,
        problems=known_problems,
        compensation=compensation,
        publishing=publishing,
        metrics=metrics,
        own_addresses=frozenset(a.lower() for a in settings.own_addresses),
    )
    services = IntakeServices(
        accepting=handling.accepting,
        actions=handling.actions,
        customers=handling.customers,
        followups=handling.followups,
        problems=ProblemDesk(problems=problem_store, tickets=tickets, publishing=publishing),
        outreach=Outreach(
            problems=problem_store,
            tickets=tickets,
            customers=customers,
            actions=handling.actions,
            publishing=publishing,
            metrics=metrics,
            notices_per_tick=max(
                1, round(settings.problem_notices_per_second * OUTREACH_TICK_SECONDS)
            ),
        ),
        compensation=compensation,
        publishing=publishing,
        tickets=tickets,
        messages=messages,
        selfservice=selfservice,
        kb=kb,
    )

    async def load_knowledge_base() -> None:
        await kb.seed(load_articles(DEFAULT_ARTICLES_PATH), utcnow())
        selfservice.use_articles(await kb.all())

    runtime.on_start(load_knowledge_base)
    runtime.every(OUTBOX_SWEEP_SECONDS, publishing.sweep_outboxes, "outbox sweep")
    runtime.every(OUTREACH_TICK_SECONDS, services.outreach.run_outreach, "problem outreach")
    runtime.every(OUTBOX_SWEEP_SECONDS, services.problems.sweep, "problem outbox sweep")
    runtime.every(OUTBOX_SWEEP_SECONDS, services.outreach.sweep, "problem notice sweep")
    runtime.every(COMPENSATION_SWEEP_SECONDS, compensation.sweep, "compensation outbox sweep")
    register_handlers(
        runtime,
        accepting=services.accepting,
        actions=services.actions,
        followups=services.followups,
        customers=services.customers,
    )
    register_holder_handlers(runtime, holders)
    register_compensation_handlers(runtime, directory)
    runtime.publisher.document(
        topics.TICKETS,
        TicketEvent | CompensationGranted | CompensationApprovalRequested | CompensationRejected,
    )
    runtime.publisher.document(topics.OUTBOUND, OutboundMessageRequested)
    runtime.publisher.document(topics.PROBLEMS, ProblemEvent)
    app = runtime.http_app(router, customers_router, problems_router, compensation_router)
    app.state.intake = services
    app.state.compensation = compensation
    app.state.settings = settings
    return runtime, app
