"""The router's reconciler: what a crash between two writes leaves wrong, put right.

- An agent's recorded load (`active`, `free`) is recomputed from the routing records they
  hold; a difference seen twice in a row with no claim or release in between (the agent's
  `slot_changes` unchanged, so none was in flight) is a leaked or lost slot, repaired by
  compare-and-set and counted.
- A decision stored but never published is announced again (the same event id), unless
  the ticket moved on since (solved, transferred): then it is only marked done.
- A record still `new` long after its ticket arrived (the crash came before any decision)
  is routed again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from s8_router.adapters.agent_store import KINDS, SLOT_CHANGES, AgentStore
from s8_router.adapters.routing_store import RoutingStore
from s8_router.domain.record import RoutingRecord
from s8_router.metrics import RouterMetrics

Load = dict[str, int]
STUCK_AFTER = timedelta(minutes=2)


class Reconciler:
    def __init__(
        self,
        *,
        agents: AgentStore,
        routing: RoutingStore,
        announce: Callable[[RoutingRecord], Awaitable[None]],
        route_again: Callable[[RoutingRecord], Awaitable[Any]],
        metrics: RouterMetrics,
        clock: Callable[[], datetime],
    ) -> None:
        self.agents, self.routing = agents, routing
        self.announce, self.route_again = announce, route_again
        self.metrics, self.clock = metrics, clock
        # agent -> (recorded, counted, claims and releases so far) at the last run
        self._suspect: dict[str, tuple[Load, Load, int]] = {}

    async def run(self) -> int:
        """One pass; returns how many things it put right."""
        fixed = await self.repair_load()
        for record in await self.routing.unannounced():
            if record.decision_holds():
                await self.announce(record)
                self.metrics.reannounced.labels("announced").inc()
            else:  # moved on since: published now, it would say what is no longer true
                await self.routing.mark_announced(record.ticket_id, record.seq)
                self.metrics.reannounced.labels("obsolete").inc()
            fixed += 1
        for record in await self.routing.stuck_new(self.clock() - STUCK_AFTER):
            await self.route_again(record)
            self.metrics.reannounced.labels("routed").inc()
            fixed += 1
        return fixed

    async def repair_load(self) -> int:
        counted_by_agent = await self.routing.load_by_agent()
        suspects: dict[str, tuple[Load, Load, int]] = {}
        repaired = 0
        for doc in await self.agents.all():
            recorded = {k: int((doc.get("active") or {}).get(k, 0)) for k in KINDS}
            counted = {k: counted_by_agent.get(doc["_id"], {}).get(k, 0) for k in KINDS}
            if recorded == counted:
                continue
            seen = (recorded, counted, int(doc.get(SLOT_CHANGES) or 0))
            if self._suspect.get(doc["_id"]) == seen:
                if await self.agents.set_load(doc["_id"], recorded, counted, seen[2]):
                    self.metrics.capacity_repairs.inc()
                    repaired += 1
                continue
            suspects[doc["_id"]] = seen  # maybe a claim in flight: next pass
        self._suspect = suspects
        return repaired
