"""A local MongoDB-wire store (deploy/local/MongoLauncher.java) of a test's own, on a free port
and a file of its own, for tests of the store itself."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from s8_testing.harness import free_port
from s8_testing.infra import REPO_ROOT

LIB = REPO_ROOT / ".local/lib/mongo"


class Store:
    """One launcher process on a file of its own."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.path.parent / "store.log"

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}"

    def start(self) -> None:
        assert LIB.is_dir(), "the store's jars are fetched by `make bootstrap`"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                "java",
                "-Xmx512m",
                *os.environ.get("S8_TEST_STORE_JAVA_OPTIONS", "").split(),
                "-cp",
                f"{LIB}/*",
                str(REPO_ROOT / "deploy/local/MongoLauncher.java"),
                str(self.path),
                "127.0.0.1",
                str(self.port),
            ],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the store exited at start"
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return
            time.sleep(0.2)
        raise AssertionError("the store did not listen within 60 s")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@contextlib.asynccontextmanager
async def client(uri: str) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        uri, journal=True, serverSelectionTimeoutMS=2000, connectTimeoutMS=2000
    )
    try:
        yield mongo
    finally:
        await mongo.close()
