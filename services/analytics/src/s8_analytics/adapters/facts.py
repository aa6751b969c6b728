"""Facts the KPIs are computed from, each written idempotently and order-tolerantly:
redelivered events change nothing, and an older event never overwrites a newer fact."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from s8_analytics.ports import SlaOutcome
from s8_shared.mongo import Document, IndexSpec, MongoStore

RAISED_KEPT = 20_000
AGENTS = "ticket_agents"
SLA = "sla_facts"
SURVEYS = "survey_facts"
PAUSED = ("pending", "on_hold")
CONTACTS = "proactive_contacts"
PROBLEMS = "problems"


class FactStore:
    INDEXES = (
        IndexSpec(SLA, [("finished_at", ASCENDING)]),
        IndexSpec(SURVEYS, [("answered_at", ASCENDING)]),
        IndexSpec(SURVEYS, [("sent_at", ASCENDING)]),
        IndexSpec("tickets", [("solved_at", ASCENDING)]),
        IndexSpec("tickets", [("problem_id", ASCENDING)]),
        IndexSpec(CONTACTS, [("at", ASCENDING)]),
    )

    def __init__(self, store: MongoStore) -> None:
        self.agents = store.collection(AGENTS)
        self.sla = store.collection(SLA)
        self.surveys = store.collection(SURVEYS)
        self.tickets = store.collection("tickets")
        self.bots = store.collection("bot_conversations")
        self.contacts = store.collection(CONTACTS)
        self.problems = store.collection(PROBLEMS)
        # The flags seen raised lately, least recent first (a bounded set: an OrderedDict
        # does it in a few lines, no cache library needed).
        self._raised: OrderedDict[tuple[str, str], None] = OrderedDict()

    async def assignment(
        self, ticket_id: str, agent_id: str | None, at: datetime, *, moved: bool
    ) -> None:
        """`moved`: reassigned or escalated, which counts as a transfer when it has a holder.
        One command unless a later holder is stored (then that holder stays)."""
        transfers = 1 if agent_id and moved else 0
        counted: dict[str, Any] = {"$inc": {"transfers": transfers}}
        if agent_id is None:
            await self.agents.update_one({"_id": ticket_id}, counted, upsert=True)
            return
        counted["$min"] = {"first_assigned_at": at}
        try:
            # The latest holder wins even when events arrive out of order: a document holding
            # a later one does not match, and the upsert's insert then collides with it.
            await self.agents.update_one(
                {"_id": ticket_id, "agent_at": {"$not": {"$gt": at}}},
                {**counted, "$set": {"agent_id": agent_id, "agent_at": at}},
                upsert=True,
            )
        except DuplicateKeyError:
            await self.agents.update_one({"_id": ticket_id}, counted)

    async def once(self, ticket_id: str, flag: str) -> bool:
        """True the first time `flag` is raised for a ticket (counting a ticket once). Flags
        never go down, so one this process saw raised costs no command when asked again
        (every event of a ticket asks)."""
        if (ticket_id, flag) in self._raised:
            self._raised.move_to_end((ticket_id, flag))
            return False
        raised = await self._raise(ticket_id, flag)
        self._raised[(ticket_id, flag)] = None
        if len(self._raised) > RAISED_KEPT:
            self._raised.popitem(last=False)
        return raised

    async def _raise(self, ticket_id: str, flag: str) -> bool:
        try:
            await self.agents.update_one(
                {"_id": ticket_id, flag: {"$ne": True}},
                {"$set": {flag: True}, "$inc": {"transfers": 0}},
                upsert=True,
            )
        except DuplicateKeyError:  # raised before: the document exists and did not match
            return False
        return True

    async def bot_handled(self, conversation_id: str, at: datetime) -> None:
        await self.bots.update_one({"_id": conversation_id}, {"$min": {"at": at}}, upsert=True)

    async def bots_handled_between(self, start: datetime, end: datetime) -> int:
        return await self.bots.count_documents({"at": {"$gte": start, "$lt": end}})

    async def queued(self, ticket_id: str, at: datetime) -> None:
        await self.agents.update_one({"_id": ticket_id}, {"$min": {"queued_at": at}}, upsert=True)

    async def status_change(self, ticket_id: str, to_status: str, at: datetime) -> None:
        """Time spent waiting on the customer or a third party, for AHT."""
        doc = await self.agents.find_one({"_id": ticket_id}) or {}
        since = doc.get("paused_since")
        if to_status in PAUSED and since is None:
            await self.agents.update_one(
                {"_id": ticket_id}, {"$set": {"paused_since": at}}, upsert=True
            )
        elif to_status not in PAUSED and since is not None:
            await self.agents.update_one(
                {"_id": ticket_id, "paused_since": since},
                {
                    "$set": {"paused_since": None},
                    "$inc": {"paused_seconds": max(0.0, (at - since).total_seconds())},
                },
            )

    async def sla_event(
        self,
        clock_id: str,
        ticket_id: str,
        target: str,
        at: datetime,
        *,
        outcome: SlaOutcome | None,
    ) -> None:
        fields: dict[str, Any] = {"ticket_id": ticket_id, "target": target}
        update: dict[str, Any] = {"$set": fields}
        if outcome == "breached":
            fields["breached"] = True
        if outcome in ("met", "cancelled"):
            fields["finished"] = True
            fields["cancelled"] = outcome == "cancelled"
            update["$max"] = {"finished_at": at}
        await self.sla.update_one({"_id": clock_id}, update, upsert=True)

    async def survey_sent(self, survey_id: str, fields: dict[str, Any], at: datetime) -> None:
        await self.surveys.update_one(
            {"_id": survey_id}, {"$set": fields, "$min": {"sent_at": at}}, upsert=True
        )

    async def survey_answer(self, survey_id: str, fields: dict[str, Any], revision: int) -> None:
        await self.surveys.update_one(
            {"_id": survey_id}, {"$setOnInsert": {"kind": fields["kind"]}}, upsert=True
        )
        # Only a later revision of the answer replaces an earlier one.
        await self.surveys.update_one(
            {
                "_id": survey_id,
                "$or": [{"revision": {"$lt": revision}}, {"revision": {"$exists": False}}],
            },
            {"$set": {**fields, "revision": revision}},
        )

    async def problem(self, problem_id: str, update_seq: int, fields: dict[str, Any]) -> None:
        """The latest update of a problem wins, whatever order updates arrive in."""
        await self.problems.update_one(
            {"_id": problem_id}, {"$setOnInsert": {"update_seq": 0}}, upsert=True
        )
        await self.problems.update_one(
            {"_id": problem_id, "update_seq": {"$lt": update_seq}},
            {"$set": {**fields, "update_seq": update_seq}},
        )

    async def proactive_contact(self, outbound_id: str, fields: dict[str, Any]) -> None:
        await self.contacts.update_one({"_id": outbound_id}, {"$set": fields}, upsert=True)

    async def contacts_between(self, start: datetime, end: datetime) -> list[Document]:
        return [d async for d in self.contacts.find({"at": {"$gte": start, "$lt": end}})]

    async def incidents_of(self, problem_ids: list[str]) -> list[Document]:
        cursor = self.tickets.find(
            {"problem_id": {"$in": problem_ids}}, projection={"customer_id": 1, "problem_id": 1}
        )
        return [d async for d in cursor]

    async def problems_by_id(self, problem_ids: list[str]) -> dict[str, Document]:
        return {d["_id"]: d async for d in self.problems.find({"_id": {"$in": problem_ids}})}

    async def tickets_created_between(self, start: datetime, end: datetime) -> int:
        return await self.tickets.count_documents({"created_at": {"$gte": start, "$lt": end}})

    async def tickets_between(self, field: str, start: datetime, end: datetime) -> list[Document]:
        return [d async for d in self.tickets.find({field: {"$gte": start, "$lt": end}})]

    async def agents_of(self, ticket_ids: list[str]) -> dict[str, Document]:
        return {d["_id"]: d async for d in self.agents.find({"_id": {"$in": ticket_ids}})}

    async def sla_finished_between(self, start: datetime, end: datetime) -> list[Document]:
        return [d async for d in self.sla.find({"finished_at": {"$gte": start, "$lt": end}})]

    async def surveys_between(self, field: str, start: datetime, end: datetime) -> list[Document]:
        return [d async for d in self.surveys.find({field: {"$gte": start, "$lt": end}})]
