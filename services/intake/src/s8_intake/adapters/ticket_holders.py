"""Who holds each ticket now, from the router's `support.assignments.v1`: a lead may not
approve compensation on a ticket they hold (four eyes). The latest event by its time wins,
so a redelivered or late event changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import UpdateOne

from s8_shared import topics
from s8_shared.batched_writes import BatchedWrites
from s8_shared.contracts import ASSIGNMENT_EVENTS, Event
from s8_shared.contracts.assignments import (
    AssignmentPayload,
    TicketAssigned,
    TicketEscalated,
    TicketQueued,
    TicketReassigned,
    TicketUnassigned,
)
from s8_shared.mongo import MongoStore
from s8_shared.runtime import ServiceRuntime

COLLECTION = "ticket_holders"


class TicketHolders:
    def __init__(self, store: MongoStore) -> None:
        self.col = store.collection(COLLECTION)
        self.writes = BatchedWrites(self.col)  # one bulk write per batch of assignments

    async def record(self, event: Event[Any]) -> None:
        match event:
            case (
                TicketAssigned(payload=payload)
                | TicketQueued(payload=payload)
                | TicketReassigned(payload=payload)
                | TicketEscalated(payload=payload)
                | TicketUnassigned(payload=payload)
            ):
                await self._hold(payload, event.occurred_at)

    async def _hold(self, payload: AssignmentPayload, event_at: datetime) -> None:
        agent = payload.agent_id  # the agent now responsible (none when queued)
        query = {"_id": payload.ticket_id, "at": {"$lte": event_at}}
        # A newer event stored: this late one's upsert collides, changing nothing.
        self.writes.add(UpdateOne(query, {"$set": {"agent_id": agent, "at": event_at}}, upsert=True))  # fmt: skip

    async def holder(self, ticket_id: str) -> str | None:
        doc = await self.col.find_one({"_id": ticket_id})
        return None if doc is None else doc.get("agent_id")


def register_holder_handlers(runtime: ServiceRuntime, holders: TicketHolders) -> None:
    applier = runtime.applier(ASSIGNMENT_EVENTS, topics.ASSIGNMENTS)

    @runtime.event_subscriber(topics.ASSIGNMENTS, applier, linger=True, writes=holders.writes)
    async def on_assignment(event: Event[Any]) -> None:
        """Who holds each ticket (for the four-eyes rule on compensation approvals)."""
        await holders.record(event)
