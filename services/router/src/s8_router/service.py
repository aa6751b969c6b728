"""The router's application services behind one entry point: what the Kafka handlers, the
HTTP API and the periodic jobs call. Built once in `app.py` with its ports; it only
delegates (the work is in `tickets.py`, `presence.py` and `assigner.py`)."""

from __future__ import annotations

from collections.abc import Callable

from s8_router.adapters.agent_store import AgentStore
from s8_router.adapters.routing_store import RoutingStore
from s8_router.assigner import Assigner
from s8_router.domain.policy import RoutingPolicy
from s8_router.domain.record import RoutingRecord
from s8_router.presence import AgentDesk
from s8_router.tickets import TicketRouting
from s8_shared.contracts import AgentProfile, TicketEvent


class RouterService:
    def __init__(
        self,
        *,
        tickets: TicketRouting,
        desk: AgentDesk,
        assigner: Assigner,
        agents: AgentStore,
        routing: RoutingStore,
        policy: Callable[[], RoutingPolicy],
    ) -> None:
        self.tickets = tickets
        self.desk = desk
        self.assigner = assigner
        # The stores the HTTP API reads (the roster, loads and queues).
        self.agents = agents
        self.routing = routing
        self.policy = policy

    async def on_ticket_event(self, event: TicketEvent) -> None:
        await self.tickets.on_ticket_event(event)

    async def escalate(self, ticket_id: str, reason: str) -> None:
        await self.tickets.escalate(ticket_id, reason)

    async def on_agent_profile(self, profile: AgentProfile) -> None:
        await self.desk.on_agent_profile(profile)

    async def accept(self, ticket_id: str, agent_id: str) -> bool:
        return await self.desk.accept(ticket_id, agent_id)

    async def decline(self, ticket_id: str, agent_id: str) -> bool:
        return await self.desk.decline(ticket_id, agent_id)

    async def expire_offers(self) -> None:
        await self.desk.expire_offers()

    async def drain(self) -> int:
        return await self.assigner.drain()

    async def announce(self, record: RoutingRecord) -> None:
        """Publishes a stored decision (the reconciler's way to finish an interrupted one)."""
        await self.assigner.announce(record)

    async def route_record(self, record: RoutingRecord) -> None:
        """Decides a record that never got a decision."""
        await self.tickets.route_record(record)
