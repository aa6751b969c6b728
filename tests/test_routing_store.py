"""The router's routing records on the real store: one command registers or refreshes a
ticket, which keeps waiting since it first did, and an older snapshot never overwrites."""

from datetime import timedelta

import pytest

from s8_router.adapters.routing_store import RoutingStore
from s8_router.domain.model import TicketToRoute
from s8_testing.builders import T0
from s8_testing.harness import TestStack

pytestmark = pytest.mark.integration


def route(priority: str, waiting_since: object) -> TicketToRoute:
    return TicketToRoute(
        ticket_id="T-1",
        channel_kind="chat",
        priority=priority,
        required_skills=("billing",),
        language="vi",
        tier_required=None,
        region=None,
        customer_tier="standard",
        waiting_since=waiting_since,  # type: ignore[arg-type]
    )


async def test_a_refreshed_record_keeps_its_first_wait_and_ignores_older_snapshots(
    stack: TestStack,
) -> None:
    async with stack.store("routing") as store:
        routing = RoutingStore(store)
        first = await routing.register(route("normal", T0), "C-1", version=1)
        assert first.route is not None
        assert (first.state.value, first.route.waiting_since, first.version) == ("new", T0, 1)
        later = T0 + timedelta(minutes=5)
        refreshed = await routing.register(route("urgent", later), "C-1", version=3)
        assert refreshed.route is not None
        assert (refreshed.route.priority, refreshed.route.waiting_since) == ("urgent", T0)
        stale = await routing.register(route("low", later), "C-1", version=2)
        assert stale.route is not None
        assert (stale.route.priority, stale.version) == ("urgent", 3)
        assert await routing.get("T-1") == stale
