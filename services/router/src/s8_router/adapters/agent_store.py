"""Agents and their live load in the router's store.

Capacity is claimed with one conditional update (`free.<kind> > 0` → decrement), so
several router replicas can never push an agent over capacity.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument

from s8_router.domain.model import AgentState
from s8_router.domain.translators import agent_from_profile
from s8_shared.contracts import AgentProfile
from s8_shared.mongo import Document, IndexSpec, MongoStore
from s8_shared.pagination import PageRequest, find_page

AGENTS = "agents"
KINDS = ("chat", "email", "phone", "on_site")
# Bumped by every claim and release: the reconciler repairs a load only if none came between
# its two looks (the same numbers can hide a claim and a release in flight).
SLOT_CHANGES = "slot_changes"
MAX_CAS_ATTEMPTS = 16


def _profile(doc: Document) -> AgentProfile:
    return AgentProfile.model_validate(doc["profile"])


def to_state(doc: Document) -> AgentState:
    return agent_from_profile(
        _profile(doc),
        {k: int(v) for k, v in (doc.get("active") or {}).items()},
        doc.get("last_finished_at"),
        doc.get("last_assigned_at"),
    )


class AgentStore:
    INDEXES = (IndexSpec(AGENTS, [("presence", ASCENDING)]),)

    def __init__(self, store: MongoStore) -> None:
        self.col = store.collection(AGENTS)

    async def page(self, page: PageRequest) -> tuple[list[Document], str | None]:
        """One page of the roster in agent id order, and the next page's cursor."""
        return await find_page(self.col, {}, "_id", page)

    async def upsert_profile(self, profile: AgentProfile) -> tuple[Document | None, Document]:
        """Stores the profile, keeping live load; returns (before, after).

        `free` is capacity minus the load read: written only if the load is still what was
        read (compare-and-set on `active`), so a claim or a release by another replica in
        between is never overwritten (that could push an agent over capacity)."""
        capacity = {k: int(profile.capacity.get(k, 0)) for k in KINDS}  # type: ignore[call-overload]
        fields = {"profile": profile.model_dump(mode="json"), "presence": profile.presence.value}
        inserted = await self.col.update_one(
            {"_id": profile.agent_id},
            {
                "$setOnInsert": {
                    **fields,
                    "free": capacity,
                    "active": {k: 0 for k in KINDS},
                    "last_finished_at": None,
                    "last_assigned_at": None,
                }
            },
            upsert=True,
        )
        if inserted.upserted_id is not None:
            return None, await self._get(profile.agent_id)
        for _ in range(MAX_CAS_ATTEMPTS):
            before = await self._get(profile.agent_id)
            active = {k: int((before.get("active") or {}).get(k, 0)) for k in KINDS}
            unchanged = {f"active.{k}": n or {"$in": [0, None]} for k, n in active.items()}
            after = await self.col.find_one_and_update(
                {"_id": profile.agent_id, **unchanged},
                {"$set": {**fields, "free": {k: capacity[k] - active[k] for k in KINDS}}},
                return_document=ReturnDocument.AFTER,
            )
            if after is not None:
                return before, after
        raise RuntimeError(f"agent {profile.agent_id}'s load kept changing; retried later")

    async def save_profile(self, profile: AgentProfile) -> str | None:
        """Stores the profile (as `upsert_profile`); the agent's presence before it, None
        for an agent seen for the first time."""
        before, _ = await self.upsert_profile(profile)
        return None if before is None else before.get("presence")

    async def set_load(
        self, agent_id: str, recorded: dict[str, int], counted: dict[str, int], changes: int
    ) -> bool:
        """Sets the agent's load to `counted` if no claim or release changed it since it was
        `recorded` after `changes` of them (compare-and-set)."""
        doc = await self._get(agent_id)
        capacity = {k: int(_profile(doc).capacity.get(k, 0)) for k in KINDS}  # type: ignore[call-overload]
        unchanged = {f"active.{k}": n or {"$in": [0, None]} for k, n in recorded.items()}
        unchanged[SLOT_CHANGES] = changes or {"$in": [0, None]}
        result = await self.col.update_one(
            {"_id": agent_id, **unchanged},
            {"$set": {"active": counted, "free": {k: capacity[k] - counted[k] for k in KINDS}}},
        )
        return result.modified_count == 1

    async def _get(self, agent_id: str) -> Document:
        doc = await self.col.find_one({"_id": agent_id})
        if doc is None:
            raise LookupError(f"agent {agent_id} vanished")
        return doc

    async def get(self, agent_id: str) -> Document | None:
        return await self.col.find_one({"_id": agent_id})

    async def state(self, agent_id: str) -> AgentState | None:
        doc = await self.get(agent_id)
        return None if doc is None else to_state(doc)

    async def all(self) -> list[Document]:
        return [d async for d in self.col.find({}).sort("_id", ASCENDING)]

    async def roster(self) -> list[AgentState]:
        """Everyone, so a decision can say why each agent (offline ones too) could not take it."""
        return [to_state(d) async for d in self.col.find({})]

    async def claim(self, agent_id: str, kind: str, now: datetime) -> Document | None:
        """Takes one slot of `kind` if the agent is online and has one free; the agent after
        it, None if it could not be taken."""
        return await self.col.find_one_and_update(
            {"_id": agent_id, "presence": "online", f"free.{kind}": {"$gt": 0}},
            {
                "$inc": {f"free.{kind}": -1, f"active.{kind}": 1, SLOT_CHANGES: 1},
                "$set": {"last_assigned_at": now},
            },
            return_document=ReturnDocument.AFTER,
        )

    async def release(
        self, agent_id: str, kind: str, now: datetime, *, finished: bool
    ) -> Document | None:
        """Gives one slot of `kind` back; the agent after it."""
        update: dict[str, Any] = {"$inc": {f"free.{kind}": 1, f"active.{kind}": -1, SLOT_CHANGES: 1}}  # fmt: skip
        if finished:
            update["$set"] = {"last_finished_at": now}
        return await self.col.find_one_and_update(
            {"_id": agent_id}, update, return_document=ReturnDocument.AFTER
        )
