"""The pieces every service process wires the same way: broker, store, metrics,
tracing, dead letters, and the HTTP app with health, readiness, metrics and specs.

A service's composition root creates one `ServiceRuntime`, registers its handlers and
routers on it, and serves `runtime.http_app(...)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import uvicorn
from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from faststream.specification import AsyncAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from s8_shared.contracts.deadletter import DeadLetterRecorded
from s8_shared.contracts.envelope import Event, EventFamily
from s8_shared.cpu import FAST_SWITCH_SECONDS
from s8_shared.handling import EventApplier, EventStats
from s8_shared.http_limits import BodyLimitMiddleware
from s8_shared.identity.http import HttpJson, token_verifier
from s8_shared.kafka.batches import BatchConsumer, Effect, QueuedWrites
from s8_shared.kafka.broker import Handler, make_broker, subscribe
from s8_shared.kafka.deadletter import DeadLetterPolicy
from s8_shared.kafka.provision import client_security, provision_topics
from s8_shared.kafka.publisher import EventPublisher
from s8_shared.kept_deadletters import KeptDeadLetters
from s8_shared.mongo import IndexSpec, MongoStore, ProcessedEvents
from s8_shared.observability.http_metrics import HttpMetrics, HttpMetricsMiddleware
from s8_shared.observability.kafka_lag import ConsumerLag
from s8_shared.observability.mongo import MongoCommandMonitor
from s8_shared.observability.tracing import instrument_http, make_tracer_provider
from s8_shared.settings import ServiceSettings
from s8_shared.topics import DEADLETTER, TopicSpec

log = logging.getLogger("s8.runtime")

Hook = Callable[[], Awaitable[None]]
CONSUMER_LAG_EVERY_SECONDS = 5.0
KEPT_DEAD_LETTERS_EVERY_SECONDS = 30.0
TRACE_FLUSH_MILLIS = 5000


class ServiceRuntime:
    def __init__(self, settings: ServiceSettings, *, title: str, description: str) -> None:
        self.settings = settings
        self.title = title
        self.description = description
        self.registry = CollectorRegistry()
        self.tracer_provider = make_tracer_provider(
            settings.service_name,
            settings.otel_exporter_otlp_endpoint,
            environment=settings.environment,
        )
        self.dead_letters = DeadLetterPolicy(
            settings.service_name,
            max_attempts=settings.max_delivery_attempts,
            backoff_seconds=settings.retry_backoff_seconds,
            registry=self.registry,
        )
        self.broker = make_broker(
            settings,
            registry=self.registry,
            tracer_provider=self.tracer_provider,
            dead_letters=self.dead_letters,
        )
        self.publisher = EventPublisher(self.broker, settings.topic_namespace)
        self.publisher.document(DEADLETTER, DeadLetterRecorded)
        self.mongo_monitor = MongoCommandMonitor(
            settings.service_name, registry=self.registry, tracer_provider=self.tracer_provider
        )
        self.store = MongoStore(
            settings.mongo_uri,
            settings.database_name,
            app_name=settings.service_name,
            listeners=[self.mongo_monitor],
        )
        self.kept_dead_letters = KeptDeadLetters(self.store)
        self.dead_letters.bind(self.publisher, self.kept_dead_letters)
        self.consumer_lag = ConsumerLag(settings.service_name, self.registry)
        self.processed = ProcessedEvents(self.store)
        self.stats = EventStats(settings.service_name, self.registry)
        self.batches = BatchConsumer(self.dead_letters, self.tracer_provider)
        self.indexes: list[IndexSpec] = list(ProcessedEvents.INDEXES)
        self.issuer_json = HttpJson()
        self.verifier = token_verifier(settings, self.issuer_json)
        self.asyncapi = AsyncAPI(self.broker, title=title, version="1.0.0", description=description)
        self._on_start: list[Hook] = []
        self._on_stop: list[Hook] = []
        self._background: list[asyncio.Task[None]] = []
        self._periodic: list[tuple[float, Callable[[], Awaitable[Any]], str]] = []
        self.every(3600, self._purge_processed, "purge processed event ids")
        self.every(CONSUMER_LAG_EVERY_SECONDS, self.update_consumer_lag, "consumer lag")
        self.every(KEPT_DEAD_LETTERS_EVERY_SECONDS, self._republish_kept, "kept dead letters")
        self.every(
            settings.kafka_commit_interval_seconds,
            self.dead_letters.commits.flush,
            "commit offsets",
        )
        self.running = False

    # --- wiring -------------------------------------------------------------------
    def subscriber(
        self, spec: TopicSpec, purpose: str = "", *, typed: bool = False
    ) -> Callable[[Handler], Any]:
        return subscribe(self.broker, self.settings, spec, purpose, typed=typed)

    def applier(
        self, family: EventFamily, spec: TopicSpec, *, handles: tuple[type[Event[Any]], ...] = ()
    ) -> EventApplier:
        """Decodes `spec`'s events with `family`, each id applied once (in this service's store)."""
        return EventApplier(family, self.processed, self.stats, self.topic(spec), handles=handles)

    def event_subscriber(
        self,
        spec: TopicSpec,
        applier: EventApplier,
        *,
        linger: bool = False,
        writes: QueuedWrites | None = None,
    ) -> Callable[[Effect], Effect]:
        """Registers an effect for `spec`'s events, consumed in batches (s8_shared.kafka.batches),
        named and described in the AsyncAPI document by the effect. `linger`: it may wait up to
        `kafka_linger_ms` for more events (off a decision's path); `writes`: what the effects
        queue while a batch is applied, written once at its end (s8_shared.batched_writes)."""

        def register(effect: Effect) -> Effect:
            async def handler(batch: Any) -> None:
                await self.batches(batch, applier, effect, writes)

            handler.__name__ = handler.__qualname__ = effect.__name__
            handler.__doc__ = effect.__doc__
            subscribe(self.broker, self.settings, spec, batch=True, linger=linger)(handler)
            return effect

        return register

    def topic(self, spec: TopicSpec) -> str:
        return spec.name(self.settings.topic_namespace)

    def add_indexes(self, *specs: IndexSpec) -> None:
        self.indexes.extend(specs)

    def on_start(self, hook: Hook) -> None:
        self._on_start.append(hook)

    def on_stop(self, hook: Hook) -> None:
        self._on_stop.append(hook)

    def every(self, seconds: float, job: Callable[[], Awaitable[Any]], name: str) -> None:
        """Runs `job` once the broker is up, then every `seconds`, logging its failures."""
        self._periodic.append((seconds, job, name))

    # --- lifecycle ----------------------------------------------------------------
    async def start(self) -> None:
        await self.store.ensure_indexes(self.indexes)
        if self.settings.provision_topics:
            await provision_topics(
                self.settings.kafka_bootstrap_servers,
                namespace=self.settings.topic_namespace,
                replication_factor=self.settings.kafka_replication_factor,
                client_options=client_security(self.settings),
            )
        for hook in self._on_start:
            await hook()
        await self.broker.start()
        for seconds, job, name in self._periodic:
            self._background.append(asyncio.create_task(self._repeat(seconds, job, name)))
        self.running = True
        log.info("service started", extra={"consumer_group": self.settings.consumer_group()})

    async def stop(self) -> None:
        self.running = False
        for task in self._background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._background.clear()
        await self.dead_letters.commits.flush()  # what is handled so far, while still assigned
        await self.broker.stop()
        for hook in reversed(self._on_stop):
            await hook()
        await self.store.close()
        await self.issuer_json.close()
        # Spans still queued for the OTLP exporter leave before the process does.
        await asyncio.to_thread(self.tracer_provider.force_flush, TRACE_FLUSH_MILLIS)
        log.info("service stopped")

    async def update_consumer_lag(self) -> None:
        """Sets `s8_kafka_consumer_lag` from the subscribers' consumers (never raises)."""
        await self.consumer_lag.update(self.broker.subscribers)

    async def _republish_kept(self) -> None:
        await self.kept_dead_letters.republish(self.publisher)

    async def _purge_processed(self) -> None:
        # No TTL indexes (the local store lacks them): purge old idempotency keys here.
        await self.processed.purge_older_than(
            timedelta(days=self.settings.idempotency_retention_days)
        )

    async def _repeat(self, seconds: float, job: Callable[[], Awaitable[Any]], name: str) -> None:
        while True:
            try:
                await job()
            except Exception:
                log.exception("%s failed; will retry", name)
            await asyncio.sleep(seconds)

    async def readiness(self) -> dict[str, bool]:
        broker_ok = False
        with contextlib.suppress(Exception):
            broker_ok = bool(await self.broker.ping(timeout=2.0))
        return {"broker": broker_ok, "store": await self.store.ping(), "started": self.running}

    # --- HTTP -----------------------------------------------------------------------
    def http_app(self, *routers: APIRouter, version: str = "0.1.0") -> FastAPI:
        @contextlib.asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        app = FastAPI(
            title=self.title, description=self.description, version=version, lifespan=lifespan
        )
        app.include_router(self.ops_router())
        for router in routers:
            app.include_router(router)
        app.state.runtime = self
        app.state.verifier = self.verifier
        instrument_http(app, self.tracer_provider)
        app.add_middleware(
            HttpMetricsMiddleware, metrics=HttpMetrics(self.settings.service_name, self.registry)
        )
        # Outermost: a body over the limit is refused before anything reads it.
        app.add_middleware(BodyLimitMiddleware, max_bytes=self.settings.max_body_bytes)
        return app

    def ops_router(self) -> APIRouter:
        router = APIRouter(tags=["operations"])

        @router.get("/healthz", summary="Liveness: the process is up")
        async def healthz() -> dict[str, str]:
            return {"status": "ok", "service": self.settings.service_name}

        @router.get("/readyz", summary="Readiness: broker and store answer")
        async def readyz() -> JSONResponse:
            checks = await self.readiness()
            ok = all(checks.values())
            return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

        @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
        async def metrics() -> Response:
            return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

        @router.get("/asyncapi.json", summary="AsyncAPI 3 document of this service's topics")
        async def asyncapi() -> Any:
            return self.asyncapi.to_specification().to_jsonable()

        return router

    def serve(self, app: FastAPI) -> None:
        uvicorn.run(
            app,
            host=self.settings.http_host,
            port=self.settings.http_port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=20,
        )


def serve_service(
    settings_cls: type[ServiceSettings],
    build: Callable[[Any], tuple[ServiceRuntime, FastAPI]],
) -> None:
    """Entry point body shared by every service: settings (fail fast), logs, serve."""
    from opentelemetry import trace

    from s8_shared.observability.logging import configure_logging

    settings = settings_cls()
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    # CPU-bound steps run in a worker thread: let the event loop take the GIL back sooner.
    sys.setswitchinterval(FAST_SWITCH_SECONDS)
    runtime, app = build(settings)
    # One service per process here: libraries that ask the global provider get this one.
    trace.set_tracer_provider(runtime.tracer_provider)
    runtime.serve(app)
