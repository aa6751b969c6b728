"""The router's record of every ticket it routes; each state change is one conditional
update, so replicas racing on the same ticket cannot both assign it. Which moves are allowed
is the domain's state machine (`domain/record.py`): an update that could make an illegal
move is refused before it is sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError
from pymongo.operations import UpdateOne

from s8_router.domain.model import TicketToRoute
from s8_router.domain.record import (
    HELD_STATES,
    NEW,
    OPEN_STATES,
    QUEUED,
    Changes,
    DecisionKind,
    RoutingRecord,
    RoutingState,
    check_move,
)
from s8_shared.batched_writes import BatchedWrites, WriteGroup
from s8_shared.mongo import Document, IndexSpec, MongoStore

QUEUE_HEAD = 100  # per priority: more than capacity can free at once
ROUTING = "routing"
STICKY = "customer_agents"
HELD = [s.value for s in HELD_STATES]


def route_of(doc: Document) -> TicketToRoute:
    fields = dict(doc["route"])
    fields["required_skills"] = tuple(fields.get("required_skills", ()))
    fields["excluded_agents"] = frozenset(doc.get("excluded", ()))
    return TicketToRoute(**fields)


def record_of(doc: Document) -> RoutingRecord:
    """A stored routing record (fields a record of an older version lacks take defaults)."""
    decision = doc.get("event_type")
    return RoutingRecord(
        ticket_id=doc["_id"],
        state=RoutingState(doc["state"]),
        customer_id=doc.get("customer_id") or "",
        route=route_of(doc) if doc.get("route") else None,
        version=int(doc.get("version") or 0),
        agent_id=doc.get("agent_id"),
        previous_agent_id=doc.get("previous_agent_id"),
        seq=int(doc.get("seq") or 0),
        announced_seq=doc.get("announced_seq"),
        announce_pending=bool(doc.get("announce_pending", False)),
        answered=bool(doc.get("answered", False)),
        excluded=frozenset(doc.get("excluded") or ()),
        queued_at=doc.get("queued_at"),
        assigned_at=doc.get("assigned_at"),
        offer_expires_at=doc.get("offer_expires_at"),
        decision=DecisionKind(decision) if decision else None,
        reason=doc.get("reason") or "",
        eligible=tuple(doc.get("eligible") or ()),
        rejected=dict(doc.get("rejected") or {}),
    )


def _fields(to: RoutingState, changes: Changes) -> dict[str, Any]:
    """A move as the stored fields it sets (the names and values records always had)."""
    fields: dict[str, Any] = {"state": to.value, **changes}
    if "decision" in changes:
        fields["event_type"] = fields.pop("decision").value
    if "eligible" in changes:
        fields["eligible"] = list(changes["eligible"])
    if "rejected" in changes:
        fields["rejected"] = dict(changes["rejected"])
    return fields


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
        # Marks of publication and sticky agents tolerate any order and a replay: inside a
        # batch of events they are written once, at its end (`writes`).
        self.writes = WriteGroup(BatchedWrites(self.col), BatchedWrites(self.sticky))
        self._announced, self._stickies = self.writes.writes

    async def register(self, route: TicketToRoute, customer_id: str, version: int) -> RoutingRecord:
        """Creates or refreshes the routing record; an older snapshot never overwrites, and
        the ticket keeps waiting since it first did (`route.waiting_since` set on insert)."""
        fields = asdict(route)
        fields.pop("excluded_agents")
        fields["required_skills"] = list(route.required_skills)
        waiting_since = fields.pop("waiting_since")
        try:
            # One command: a newer snapshot's record does not match, and the upsert's insert
            # then collides with it (read it as it is).
            doc = await self.col.find_one_and_update(
                {"_id": route.ticket_id, "version": {"$lte": version}},
                {
                    "$setOnInsert": {
                        "state": NEW.value,
                        "agent_id": None,
                        "seq": 0,
                        "answered": False,
                        "excluded": [],
                        "customer_id": customer_id,
                        "route.waiting_since": waiting_since,
                    },
                    "$set": {**{f"route.{k}": v for k, v in fields.items()}, "version": version},
                },
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            doc = await self.col.find_one({"_id": route.ticket_id})
        assert doc is not None
        return record_of(doc)

    async def get(self, ticket_id: str) -> RoutingRecord | None:
        doc = await self.col.find_one({"_id": ticket_id})
        return None if doc is None else record_of(doc)

    async def transition(
        self,
        ticket_id: str,
        from_states: Sequence[RoutingState],
        to: RoutingState,
        changes: Changes | None = None,
        *,
        new_assignment: bool = False,
        agent_id: str | None = None,
        before: bool = False,
    ) -> RoutingRecord | None:
        """Moves the ticket to `to` if it is in one of `from_states` (and held by `agent_id`
        when given); None if not (someone else moved it first). Returns the record after the
        change, or before it with `before=True`. IllegalTransition, writing nothing, if the
        state machine forbids any of the moves."""
        sources = [s.value for s in check_move(from_states, to)]
        updates = _fields(to, changes or {})
        change: dict[str, Any] = {"$set": updates}
        if new_assignment:  # a decision to announce: pending until published (reconciler)
            change["$inc"] = {"seq": 1}
            change["$set"] = {**updates, "announce_pending": True}
        query: dict[str, Any] = {"_id": ticket_id, "state": {"$in": sources}}
        if agent_id is not None:
            query["agent_id"] = agent_id
        doc = await self.col.find_one_and_update(
            query, change, return_document=ReturnDocument.BEFORE if before else ReturnDocument.AFTER
        )
        return None if doc is None else record_of(doc)

    async def mark_answered(self, ticket_id: str) -> None:
        """An agent answered publicly: going offline no longer hands the ticket back."""
        await self.col.update_one({"_id": ticket_id}, {"$set": {"answered": True}})

    async def require_tier(self, ticket_id: str, tier: str | None) -> None:
        await self.col.update_one({"_id": ticket_id}, {"$set": {"route.tier_required": tier}})

    async def exclude(self, ticket_id: str, agent_id: str) -> None:
        await self.col.update_one({"_id": ticket_id}, {"$addToSet": {"excluded": agent_id}})

    async def mark_announced(self, ticket_id: str, seq: int) -> None:
        """Published: no longer pending, unless a newer decision came meanwhile. Until the
        mark is written the reconciler may publish the decision again (the same event id)."""
        await self._announced.put(
            UpdateOne(
                {"_id": ticket_id, "seq": seq},
                {"$set": {"announced_seq": seq, "announce_pending": False}},
            )
        )

    async def unannounced(self, limit: int = 100) -> list[RoutingRecord]:
        """Decisions stored but not (yet) published: a crash came in between."""
        found = self.col.find({"announce_pending": True}).limit(limit)
        return [record_of(d) async for d in found]

    async def stuck_new(self, waiting_before: datetime, limit: int = 100) -> list[RoutingRecord]:
        """Records still `new` (never decided) for a ticket waiting since before then."""
        query = {"state": NEW.value, "route.waiting_since": {"$lte": waiting_before}}
        return [record_of(d) async for d in self.col.find(query).limit(limit)]

    async def load_by_agent(self) -> dict[str, dict[str, int]]:
        """Tickets each agent holds (offered or assigned) by channel kind, counted from the
        routing records: what the agents' recorded load must be. An indexed find of the held
        records, not an aggregation (the local store scans every record for those)."""
        query = {"state": {"$in": HELD}}
        projection = {"agent_id": 1, "route.channel_kind": 1}
        load: dict[str, dict[str, int]] = {}
        async for doc in self.col.find(query, projection=projection):
            kinds = load.setdefault(doc.get("agent_id") or "", {})
            kind = (doc.get("route") or {}).get("channel_kind", "")
            kinds[kind] = kinds.get(kind, 0) + 1
        return load

    async def queue_head(self, per_priority: int = QUEUE_HEAD) -> list[RoutingRecord]:
        """The longest-waiting queued tickets of each priority: within a priority the oldest
        always come first (aging only lifts them), so these hold the first `per_priority`
        tickets of the serving order, whatever the queue's length."""
        found: list[RoutingRecord] = []
        for priority in ("urgent", "high", "normal", "low"):
            query = {"state": QUEUED.value, "route.priority": priority}
            cursor = self.col.find(query).sort("queued_at", ASCENDING).limit(per_priority)
            found += [record_of(d) async for d in cursor]
        return found

    async def queue_depth(self) -> dict[tuple[str, str], int]:
        """Queued tickets by priority and skills (an indexed find of the queued ones: the
        local store's aggregations scan every record, the whole history)."""
        depth: dict[tuple[str, str], int] = {}
        projection = {"route.priority": 1, "route.required_skills": 1}
        async for doc in self.col.find({"state": QUEUED.value}, projection=projection):
            route = doc.get("route") or {}
            key = (route.get("priority") or "normal", ",".join(sorted(route.get("required_skills") or [])) or "-")  # fmt: skip
            depth[key] = depth.get(key, 0) + 1
        return depth

    async def held_by(self, agent_id: str, *, unanswered_only: bool) -> list[RoutingRecord]:
        query: dict[str, Any] = {"agent_id": agent_id, "state": {"$in": HELD}}
        if unanswered_only:
            query["answered"] = False
        return [record_of(d) async for d in self.col.find(query)]

    async def held_by_agents(self, agent_ids: Sequence[str]) -> dict[str, list[str]]:
        """The tickets offered to or assigned to each of `agent_ids`, in one query."""
        held: dict[str, list[str]] = {a: [] for a in agent_ids}
        query = {"agent_id": {"$in": list(agent_ids)}, "state": {"$in": HELD}}
        async for doc in self.col.find(query, projection={"agent_id": 1}):
            held.setdefault(doc["agent_id"], []).append(doc["_id"])
        return held

    async def expired_offers(self, now: datetime) -> list[RoutingRecord]:
        query = {"state": RoutingState.OFFERED.value, "offer_expires_at": {"$lte": now}}
        return [record_of(d) async for d in self.col.find(query)]

    async def count_open_by_state(self) -> dict[str, int]:
        """Open records by state, each an indexed find of ids (solved and closed records are
        the whole history: the local store would scan it all, and analytics counts them)."""
        counts: dict[str, int] = {}
        for state in OPEN_STATES:
            cursor = self.col.find({"state": state.value}, projection={"_id": 1})
            counts[state.value] = len([d async for d in cursor])
        return counts

    async def remember_agent(self, customer_id: str, agent_id: str, at: datetime) -> None:
        """The customer's latest agent: a later assignment wins whatever order the writes take
        (an earlier one's upsert collides with the newer document and is dropped)."""
        await self._stickies.put(
            UpdateOne(
                {"_id": customer_id, "at": {"$lte": at}},
                {"$set": {"agent_id": agent_id, "at": at}},
                upsert=True,
            )
        )

    async def previous_agent(self, customer_id: str) -> tuple[str | None, datetime | None]:
        doc = await self.sticky.find_one({"_id": customer_id})
        return (doc["agent_id"], doc["at"]) if doc else (None, None)
