"""Fixtures for cross-service tests on the real Kafka broker and MongoDB-wire store."""

from collections.abc import AsyncIterator, Iterator

import pytest

from s8_testing.harness import TestStack
from s8_testing.infra import Infra, provide_infra


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    yield from provide_infra()


@pytest.fixture
async def stack(infra: Infra) -> AsyncIterator[TestStack]:
    """A fresh namespace of topics and databases for one test."""
    async with TestStack(infra) as test_stack:
        yield test_stack
