"""Where integration tests find a real Kafka broker and MongoDB-wire store.

`S8_TEST_INFRA` selects it:
- `local` — the project's own servers (`deploy/local/infra.sh up`, started if needed; its
  Keycloak issues the tokens the tests call the APIs with);
- `testcontainers` — Kafka and MongoDB images, for machines with a Docker engine;
- `external` — `S8_TEST_KAFKA_BOOTSTRAP_SERVERS` and `S8_TEST_MONGO_URI` of a running cluster;
- `auto` (default) — testcontainers when a Docker engine answers, else local.
Never an in-memory fake: these tests exist to exercise the real servers.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]  # testing/src/s8_testing/infra.py


@dataclass(frozen=True)
class Infra:
    kafka_bootstrap_servers: str
    mongo_uri: str
    mode: str
    oidc_issuer: str = (
        f"http://127.0.0.1:{os.environ.get('S8_KEYCLOAK_PORT', '18080')}/realms/s8-test"
    )


def _port_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def _docker_available() -> bool:
    if os.environ.get("DOCKER_HOST"):
        return True
    return Path("/var/run/docker.sock").exists()


def _local() -> Iterator[Infra]:
    kafka_port = int(os.environ.get("S8_KAFKA_PORT", "9092"))
    mongo_port = int(os.environ.get("S8_MONGO_PORT", "27017"))
    keycloak_port = int(os.environ.get("S8_KEYCLOAK_PORT", "18080"))  # tokens for the APIs
    if not all(_port_open("127.0.0.1", p) for p in (kafka_port, mongo_port, keycloak_port)):
        env = {**os.environ, "S8_PYTHON": os.environ.get("S8_PYTHON", _python())}
        result = subprocess.run(
            ["bash", str(REPO_ROOT / "deploy/local/infra.sh"), "up"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                "could not start the local Kafka and MongoDB-wire servers:\n"
                + result.stdout[-3000:]
                + result.stderr[-3000:]
            )
    yield Infra(f"127.0.0.1:{kafka_port}", f"mongodb://127.0.0.1:{mongo_port}", "local")


def _python() -> str:
    import sys

    return sys.executable


def _external() -> Iterator[Infra]:
    try:
        bootstrap = os.environ["S8_TEST_KAFKA_BOOTSTRAP_SERVERS"]
        mongo_uri = os.environ["S8_TEST_MONGO_URI"]
    except KeyError as missing:
        raise RuntimeError(f"S8_TEST_INFRA=external needs {missing.args[0]}") from None
    yield Infra(bootstrap, mongo_uri, "external")


def _testcontainers() -> Iterator[Infra]:  # pragma: no cover - needs a Docker engine
    try:
        from testcontainers.kafka import KafkaContainer
        from testcontainers.mongodb import MongoDbContainer
    except ImportError as exc:
        raise RuntimeError(
            "S8_TEST_INFRA=testcontainers needs `uv sync --group testcontainers`"
        ) from exc
    with (
        KafkaContainer("confluentinc/cp-kafka:7.9.0").with_kraft() as kafka,
        MongoDbContainer("mongo:8.0") as mongo,
    ):
        yield Infra(kafka.get_bootstrap_server(), mongo.get_connection_url(), "testcontainers")


def provide_infra() -> Iterator[Infra]:
    mode = os.environ.get("S8_TEST_INFRA", "auto")
    if mode == "auto":
        mode = "testcontainers" if _docker_available() else "local"
    providers = {"local": _local, "external": _external, "testcontainers": _testcontainers}
    if mode not in providers:
        raise RuntimeError(f"S8_TEST_INFRA={mode!r}: use local, testcontainers, external or auto")
    yield from providers[mode]()
