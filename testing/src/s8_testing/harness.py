"""Running services in-process against the real broker and store, and reading topics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI
from pydantic import BaseModel, SecretStr
from pymongo import AsyncMongoClient

from s8_shared.contracts.envelope import Event, EventFamily
from s8_shared.kafka.provision import delete_namespace, provision_topics
from s8_shared.mongo import STORE_REPLY_TIMEOUT_MS, MongoStore
from s8_shared.runtime import ServiceRuntime
from s8_shared.settings import ServiceSettings
from s8_shared.topics import TopicSpec
from s8_testing.infra import Infra
from s8_testing.tokens import CallerAuth, ProviderTokens

S = TypeVar("S", bound=ServiceSettings)
PARTITIONS = 3
READ_ALL_SECONDS = 60.0
T = TypeVar("T")


class TestStack:
    """One isolated namespace of topics and databases on the real servers."""

    __test__ = False  # not a pytest test class

    def __init__(self, infra: Infra) -> None:
        self.infra = infra
        self.namespace = f"t{uuid.uuid4().hex[:10]}."
        self.mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            infra.mongo_uri, tz_aware=True, socketTimeoutMS=STORE_REPLY_TIMEOUT_MS
        )
        self.producer: AIOKafkaProducer | None = None
        self.tokens = ProviderTokens(infra.oidc_issuer)

    async def __aenter__(self) -> TestStack:
        # Few partitions per test topic: a session creates dozens of namespaces, and a
        # single-node broker's memory grows with partitions. Several still exercise
        # partition assignment across replicas.
        await provision_topics(
            self.infra.kafka_bootstrap_servers, namespace=self.namespace, max_partitions=PARTITIONS
        )
        self.producer = AIOKafkaProducer(bootstrap_servers=self.infra.kafka_bootstrap_servers)
        await self.producer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.producer is not None:
            await self.producer.stop()
        await delete_namespace(self.infra.kafka_bootstrap_servers, self.namespace)
        for name in await self.mongo.list_database_names():
            if name.startswith(self.db_prefix()):
                await self.mongo.drop_database(name)
        await self.mongo.close()

    def db_prefix(self) -> str:
        return self.namespace.replace(".", "_")

    def topic(self, spec: TopicSpec) -> str:
        return spec.name(self.namespace)

    def settings(self, settings_cls: type[S], **overrides: Any) -> S:
        service = settings_cls().service_name.removeprefix("s8-").replace("-", "_")
        fields: dict[str, Any] = {
            "kafka_bootstrap_servers": self.infra.kafka_bootstrap_servers,
            "mongo_uri": self.infra.mongo_uri,
            "mongo_database": f"{self.db_prefix()}{service}",
            "topic_namespace": self.namespace,
            "consumer_group_prefix": f"{self.namespace}s8-",
            "provision_topics": False,
            "retry_backoff_seconds": 0.05,
            "oidc_issuer": self.infra.oidc_issuer,
        }
        fields.update(overrides)
        return settings_cls(**fields)

    def env(self, settings: ServiceSettings) -> dict[str, str]:
        """The same settings as `S8_*` variables, for service subprocesses."""
        env: dict[str, str] = {}
        for name in type(settings).model_fields:
            value = getattr(settings, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if isinstance(value, list | dict):
                value = json.dumps([_plain(v) for v in value] if isinstance(value, list) else value)
            env[f"S8_{name.upper()}"] = str(value)
        return env

    def client(self, app: FastAPI, base_url: str, **kwargs: Any) -> httpx.AsyncClient:
        """An in-process client of `app` whose requests carry the caller's Keycloak token
        (`CallerAuth`: who the request names as acting, else every staff role)."""
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=base_url,
            auth=CallerAuth(self.tokens),
            **kwargs,
        )

    def db(self, settings: ServiceSettings) -> Any:
        return self.mongo[settings.database_name]

    async def send(self, spec: TopicSpec, value: bytes, key: bytes | None = None) -> None:
        assert self.producer is not None
        await self.producer.send_and_wait(self.topic(spec), value, key=key)

    @contextlib.asynccontextmanager
    async def store(self, name: str) -> AsyncIterator[MongoStore]:
        """A store client on a database of this test's own (dropped with the stack)."""
        store = MongoStore(self.infra.mongo_uri, f"{self.db_prefix()}{name}", app_name="test")
        try:
            yield store
        finally:
            await store.close()

    @contextlib.asynccontextmanager
    async def running(
        self, build: Callable[[Any], tuple[ServiceRuntime, FastAPI]], settings: ServiceSettings
    ) -> AsyncIterator[ServiceRuntime]:
        runtime, _ = build(settings)
        await runtime.start()
        try:
            yield runtime
        finally:
            await runtime.stop()

    async def handled_everything(
        self, settings: ServiceSettings, spec: TopicSpec, purpose: str = ""
    ) -> bool:
        """The service's consumer group for `spec` has committed every record sent to it so far.

        Subscribers commit only after the handler succeeded, so this means every record on the
        topic was handled: the condition to wait for before asserting that something did *not*
        change, instead of sleeping."""
        topic = self.topic(spec)
        group = settings.consumer_group(f".{spec.short_name}{purpose}")
        partitions = [TopicPartition(topic, p) for p in range(min(spec.partitions, PARTITIONS))]
        consumer = AIOKafkaConsumer(bootstrap_servers=self.infra.kafka_bootstrap_servers)
        admin = AIOKafkaAdminClient(bootstrap_servers=self.infra.kafka_bootstrap_servers)
        await consumer.start()
        await admin.start()
        try:
            end = await consumer.end_offsets(partitions)
            committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
        finally:
            await admin.close()
            await consumer.stop()
        return all(
            end[tp] == 0 or (tp in committed and committed[tp].offset >= end[tp])
            for tp in partitions
        )

    async def caught_up(
        self, settings: ServiceSettings, *specs: TopicSpec, within: float = 30.0
    ) -> None:
        """Waits until the service has handled every record sent so far to each of `specs`."""

        async def handled() -> bool:
            return all([await self.handled_everything(settings, spec) for spec in specs])

        names = ", ".join(spec.short_name for spec in specs)
        await eventually(handled, within=within, what=f"{settings.service_name} to handle {names}")

    async def read_all(self, spec: TopicSpec, family: EventFamily) -> list[Event[Any]]:
        """Every event on the topic so far, read by a fresh consumer from the beginning."""
        topic = self.topic(spec)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.infra.kafka_bootstrap_servers, enable_auto_commit=False
        )
        await consumer.start()
        events: list[Event[Any]] = []
        try:
            # Our provisioning created the topic with the declared partition count.
            partitions = [TopicPartition(topic, p) for p in range(min(spec.partitions, PARTITIONS))]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            end = await consumer.end_offsets(partitions)
            deadline = time.monotonic() + READ_ALL_SECONDS
            while any([await consumer.position(tp) < end[tp] for tp in partitions]):
                assert time.monotonic() < deadline, f"{topic} not read to its end in time"
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        event = family.decode(record.value)
                        if event is not None:
                            events.append(event)
        finally:
            await consumer.stop()
        return events


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else value


async def eventually(
    check: Callable[[], Awaitable[T]],
    *,
    within: float = 30.0,
    interval: float = 0.2,
    what: str = "condition",
) -> T:
    """Polls `check` until it returns a truthy value; fails with `what` after `within` seconds."""
    deadline = time.monotonic() + within
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {within}s waiting for {what}; last value: {last!r}")


async def holds(
    check: Callable[[], Awaitable[object]],
    *,
    during: float,
    interval: float = 0.2,
    what: str = "condition",
) -> None:
    """Asserts that `check` stays truthy for `during` seconds (a duplicate or a late event
    that must never come): fails at the first falsy value instead of after a sleep."""
    deadline = time.monotonic() + during
    while True:
        value = await check()
        assert value, f"{what} stopped holding: {value!r}"
        if time.monotonic() >= deadline:
            return
        await asyncio.sleep(interval)


def free_port() -> int:
    """A TCP port nobody listens on now (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """`app` on a real HTTP server (streaming responses need one); its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    try:
        await eventually(started, within=10, interval=0.05, what="the HTTP server")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def started(runtime: ServiceRuntime) -> AsyncIterator[ServiceRuntime]:
    """A runtime built by the test (its app kept for `serving`), started and stopped."""
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


def chromium() -> str:
    """Debian's Chromium for the browser tests (`make browser`), or S8_CHROMIUM."""
    path = os.environ.get("S8_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")  # fmt: skip
    if not path:
        raise AssertionError("Chromium is needed for this test: `make browser` (Debian's chromium package)")  # fmt: skip
    return path
