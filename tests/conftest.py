"""Fixtures for cross-service tests on the real Kafka broker and MongoDB-wire store."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from s8_testing.harness import TestStack
from s8_testing.infra import Infra, provide_infra
from s8_testing.local_store import Store


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    yield from provide_infra()


@pytest.fixture
async def stack(infra: Infra) -> AsyncIterator[TestStack]:
    """A fresh namespace of topics and databases for one test."""
    async with TestStack(infra) as test_stack:
        yield test_stack


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A local store of the test's own (deploy/local/MongoLauncher.java), on a free port."""
    running = Store(tmp_path / "store" / "s8.mv")
    running.start()
    try:
        yield running
    finally:
        running.stop()
