"""Router's composition root."""

from __future__ import annotations

from fastapi import FastAPI

from s8_router.adapters.agent_directory import AgentDirectory
from s8_router.adapters.agent_store import AgentStore
from s8_router.adapters.handlers import register_handlers
from s8_router.adapters.policy_file import load_policy
from s8_router.adapters.routing_store import RoutingStore
from s8_router.api import router
from s8_router.api_stringee import router as stringee_router
from s8_router.assigner import Assigner
from s8_router.domain.policy import RoutingPolicy
from s8_router.metrics import RouterMetrics
from s8_router.presence import AgentDesk
from s8_router.reconciler import Reconciler
from s8_router.service import RouterService
from s8_router.settings import RouterSettings
from s8_router.tickets import TicketRouting
from s8_shared import topics
from s8_shared.contracts import AssignmentEvent, utcnow
from s8_shared.runtime import ServiceRuntime

TITLE = "s8 router"
DESCRIPTION = (
    "Assigns tickets to agents by skill, priority, capacity and presence; queues what it "
    "cannot place; escalates by tier. Every decision is explained on `support.assignments.v1`."
)


def build(settings: RouterSettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or RouterSettings()
    runtime = ServiceRuntime(settings, title=TITLE, description=DESCRIPTION)
    runtime.add_indexes(*AgentStore.INDEXES, *RoutingStore.INDEXES)
    loaded = load_policy(settings.policy_path)

    def policy() -> RoutingPolicy:
        return loaded

    agents, routing = AgentStore(runtime.store), RoutingStore(runtime.store)
    directory = AgentDirectory(agents, max_age=settings.roster_max_age_seconds)
    metrics = RouterMetrics(runtime.registry)
    assigner = Assigner(
        agents=directory,
        routing=routing,
        publisher=runtime.publisher,
        policy=policy,
        metrics=metrics,
        clock=utcnow,
    )
    service = RouterService(
        tickets=TicketRouting(
            agents=directory, routing=routing, assigner=assigner, policy=policy, clock=utcnow
        ),
        desk=AgentDesk(
            agents=directory, routing=routing, assigner=assigner, policy=policy, clock=utcnow
        ),
        assigner=assigner,
        agents=agents,
        routing=routing,
        policy=policy,
    )
    reconciler = Reconciler(
        agents=agents,
        routing=routing,
        announce=service.announce,
        route_again=service.route_record,
        metrics=metrics,
        clock=utcnow,
    )
    register_handlers(runtime, service)
    runtime.publisher.document(topics.ASSIGNMENTS, AssignmentEvent)
    runtime.every(settings.drain_every_seconds, service.drain, "queue drain")
    runtime.every(5.0, service.expire_offers, "offer expiry")
    runtime.every(settings.reconcile_every_seconds, reconciler.run, "routing reconciler")
    app = runtime.http_app(router, stringee_router)
    app.state.router = service
    app.state.reconciler = reconciler
    app.state.runtime = runtime
    return runtime, app
