"""The router's record of every ticket it routes; each state change is one conditional
update, so replicas racing on the same ticket cannot both assign it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument

from s8_router.domain.model import TicketToRoute
from s8_shared.mongo import Document, IndexSpec, MongoStore

QUEUE_HEAD = 100  # per priority: more than capacity can free at once
ROUTING = "routing"
STICKY = "customer_agents"
OPEN_STATES = ("new", "queued", "offered", "assigned")


def route_of(doc: Document) -> TicketToRoute:
    fields = dict(doc["route"])
    fields["required_skills"] = tuple(fields.get("required_skills", ()))
    fields["excluded_agents"] = frozenset(doc.get("excluded", ()))
    return TicketToRoute(**fields)


class RoutingStore:
    INDEXES = (
        IndexSpec(ROUTING, [("state", ASCENDING), ("queued_at", ASCENDING)]),
        IndexSpec(ROUTING, [("agent_id", ASCENDING), ("state", ASCENDING)]),
        IndexSpec(ROUTING, [("offer_expires_at", ASCENDING)]),
        IndexSpec(ROUTING, [("announce_pending", ASCENDING)]),
        IndexSpec(
            ROUTING, [("state", ASCENDING), ("route.priority", ASCENDING), ("queued_at", ASCENDING)]
        ),
        IndexSpec(ROUTING, [("state", ASCENDING), ("route.waiting_since", ASCENDING)]),
    )

    def __init__(self, store: MongoStore) -> None:
        self.col = store.collection(ROUTING)
        self.sticky = store.collection(STICKY)

    async def register(self, route: TicketToRoute, customer_id: str, version: int) -> Document:
        """Creates or refreshes the routing record; an older snapshot never overwrites."""
        fields = asdict(route)
        fields.pop("excluded_agents")
        fields["required_skills"] = list(route.required_skills)
        await self.col.update_one(
            {"_id": route.ticket_id},
            {
                "$setOnInsert": {
                    "state": "new",
                    "agent_id": None,
                    "seq": 0,
                    "answered": False,
                    "excluded": [],
                    "customer_id": customer_id,
                    "version": 0,
                }
            },
            upsert=True,
        )
        await self.col.update_one(
            {"_id": route.ticket_id, "version": {"$lte": version}},
            {"$set": {"route": fields, "version": version}},
        )
        doc = await self.col.find_one({"_id": route.ticket_id})
        assert doc is not None
        return doc

    async def get(self, ticket_id: str) -> Document | None:
        return await self.col.find_one({"_id": ticket_id})

    async def transition(
        self,
        ticket_id: str,
        from_states: Sequence[str],
        updates: dict[str, Any],
        *,
        new_assignment: bool = False,
        agent_id: str | None = None,
        before: bool = False,
    ) -> Document | None:
        """Moves the ticket if it is in one of `from_states` (and held by `agent_id` when
        given); None if not (someone else moved it first). Returns the document after the
        change, or before it with `before=True`."""
        change: dict[str, Any] = {"$set": updates}
        if new_assignment:  # a decision to announce: pending until published (reconciler)
            change["$inc"] = {"seq": 1}
            change["$set"] = {**updates, "announce_pending": True}
        query: dict[str, Any] = {"_id": ticket_id, "state": {"$in": list(from_states)}}
        if agent_id is not None:
            query["agent_id"] = agent_id
        return await self.col.find_one_and_update(
            query, change, return_document=ReturnDocument.BEFORE if before else ReturnDocument.AFTER
        )

    async def set_fields(self, ticket_id: str, updates: dict[str, Any]) -> None:
        await self.col.update_one({"_id": ticket_id}, {"$set": updates})

    async def exclude(self, ticket_id: str, agent_id: str) -> None:
        await self.col.update_one({"_id": ticket_id}, {"$addToSet": {"excluded": agent_id}})

    async def mark_announced(self, ticket_id: str, seq: int) -> None:
        """Published: no longer pending, unless a newer decision came meanwhile."""
        await self.col.update_one(
            {"_id": ticket_id, "seq": seq},
            {"$set": {"announced_seq": seq, "announce_pending": False}},
        )

    async def unannounced(self, limit: int = 100) -> list[Document]:
        """Decisions stored but not (yet) published: a crash came in between."""
        return [d async for d in self.col.find({"announce_pending": True}).limit(limit)]

    async def stuck_new(self, waiting_before: datetime, limit: int = 100) -> list[Document]:
        """Records still `new` (never decided) for a ticket waiting since before then."""
        query = {"state": "new", "route.waiting_since": {"$lte": waiting_before}}
        return [d async for d in self.col.find(query).limit(limit)]

    async def load_by_agent(self) -> dict[str, dict[str, int]]:
        """Tickets each agent holds (offered or assigned) by channel kind, counted from the
        routing records: what the agents' recorded load must be. An indexed find of the held
        records, not an aggregation (the local store scans every record for those)."""
        query = {"state": {"$in": ["offered", "assigned"]}}
        projection = {"agent_id": 1, "route.channel_kind": 1}
        load: dict[str, dict[str, int]] = {}
        async for doc in self.col.find(query, projection=projection):
            kinds = load.setdefault(doc.get("agent_id") or "", {})
            kind = (doc.get("route") or {}).get("channel_kind", "")
            kinds[kind] = kinds.get(kind, 0) + 1
        return load

    async def queue_head(self, per_priority: int = QUEUE_HEAD) -> list[Document]:
        """The longest-waiting queued tickets of each priority: within a priority the oldest
        always come first (aging only lifts them), so these hold the first `per_priority`
        tickets of the serving order, whatever the queue's length."""
        found: list[Document] = []
        for priority in ("urgent", "high", "normal", "low"):
            query = {"state": "queued", "route.priority": priority}
            cursor = self.col.find(query).sort("queued_at", ASCENDING).limit(per_priority)
            found += [d async for d in cursor]
        return found

    async def queue_depth(self) -> dict[tuple[str, str], int]:
        """Queued tickets by priority and skills (an indexed find of the queued ones: the
        local store's aggregations scan every record, the whole history)."""
        depth: dict[tuple[str, str], int] = {}
        projection = {"route.priority": 1, "route.required_skills": 1}
        async for doc in self.col.find({"state": "queued"}, projection=projection):
            route = doc.get("route") or {}
            key = (route.get("priority") or "normal", ",".join(sorted(route.get("required_skills") or [])) or "-")  # fmt: skip
            depth[key] = depth.get(key, 0) + 1
        return depth

    async def held_by(self, agent_id: str, *, unanswered_only: bool) -> list[Document]:
        query: dict[str, Any] = {"agent_id": agent_id, "state": {"$in": ["offered", "assigned"]}}
        if unanswered_only:
            query["answered"] = False
        return [d async for d in self.col.find(query)]

    async def held_by_agents(self, agent_ids: Sequence[str]) -> dict[str, list[str]]:
        """The tickets offered to or assigned to each of `agent_ids`, in one query."""
        held: dict[str, list[str]] = {a: [] for a in agent_ids}
        query = {"agent_id": {"$in": list(agent_ids)}, "state": {"$in": ["offered", "assigned"]}}
        async for doc in self.col.find(query, projection={"agent_id": 1}):
            held.setdefault(doc["agent_id"], []).append(doc["_id"])
        return held

    async def expired_offers(self, now: datetime) -> list[Document]:
        return [
            d async for d in self.col.find({"state": "offered", "offer_expires_at": {"$lte": now}})
        ]

    async def count_open_by_state(self) -> dict[str, int]:
        """Open records by state, each an indexed find of ids (solved and closed records are
        the whole history: the local store would scan it all, and analytics counts them)."""
        counts: dict[str, int] = {}
        for state in OPEN_STATES:
            cursor = self.col.find({"state": state}, projection={"_id": 1})
            counts[state] = len([d async for d in cursor])
        return counts

    async def remember_agent(self, customer_id: str, agent_id: str, at: datetime) -> None:
        await self.sticky.update_one(
            {"_id": customer_id}, {"$set": {"agent_id": agent_id, "at": at}}, upsert=True
        )

    async def previous_agent(self, customer_id: str) -> tuple[str | None, datetime | None]:
        doc = await self.sticky.find_one({"_id": customer_id})
        return (doc["agent_id"], doc["at"]) if doc else (None, None)
