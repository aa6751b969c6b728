"""Intake's copy of who each agent is (tier, lead) from the compacted `support.agents.v1`,
for compensation limits and approvals. The latest profile wins: by `updated_at` when the
profile carries one, else by arrival (the topic keeps one agent's profiles in order)."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from s8_intake.domain.compensation import Agent
from s8_shared.contracts import AgentProfile
from s8_shared.mongo import Document, MongoStore

COLLECTION = "agent_directory"


def _agent(doc: Document) -> Agent:
    return Agent(doc["_id"], doc["tier"], bool(doc.get("lead")))


class AgentDirectory:
    def __init__(self, store: MongoStore) -> None:
        self.col = store.collection(COLLECTION)

    async def upsert(self, profile: AgentProfile) -> bool:
        """False when a newer profile of this agent is stored already (a stale redelivery)."""
        fields: Document = {
            "tier": profile.tier,
            "lead": profile.lead,
            "name": profile.name,
            "team": profile.team,
            "updated_at": profile.updated_at,
        }
        query: Document = {"_id": profile.agent_id}
        if profile.updated_at is not None:
            query["$or"] = [
                {"updated_at": None},
                {"updated_at": {"$lte": profile.updated_at}},
            ]
        try:
            await self.col.update_one(query, {"$set": fields}, upsert=True)
        except DuplicateKeyError:
            return False  # the agent exists with a newer profile: the upsert's insert collided
        return True

    async def remove(self, agent_id: str) -> None:
        """A tombstone: the agent left; their offers now need approval."""
        await self.col.delete_one({"_id": agent_id})

    async def get(self, agent_id: str) -> Agent | None:
        doc = await self.col.find_one({"_id": agent_id})
        return _agent(doc) if doc else None
