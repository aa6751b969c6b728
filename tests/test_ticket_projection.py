"""The downstream ticket projection on the real store: redelivered and reordered events."""

from datetime import timedelta

import pytest

from s8_shared.mongo import MongoStore
from s8_shared.projections import TicketProjection
from s8_testing.builders import T0, make_snapshot
from s8_testing.harness import TestStack

pytestmark = pytest.mark.integration


async def test_an_older_snapshot_never_overwrites_a_newer_one(stack: TestStack) -> None:
    store = MongoStore(stack.infra.mongo_uri, f"{stack.db_prefix()}projection", app_name="test")
    try:
        await store.ensure_indexes(TicketProjection.INDEXES)
        projection = TicketProjection(store)
        newer = make_snapshot(status="open", version=2, updated_at=T0 + timedelta(minutes=5))
        older = make_snapshot(status="new", version=1)
        assert await projection.apply(newer, "ticket.status_changed")
        assert not await projection.apply(older, "ticket.created")
        stored = await projection.get("T-1")
        assert stored is not None
        assert stored.status.value == "open"
        # The same event again changes nothing and raises nothing.
        await projection.apply(newer, "ticket.status_changed")
        assert await projection.count_by("status") == {"open": 1}
    finally:
        await store.close()
