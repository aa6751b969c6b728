"""An in-memory `SurveyRepository` for fast unit tests of the survey service: the same
answers as `SurveyStore` (stored once by id, compare-and-set on state and revision, events
kept in each survey's outbox until removed) without a database."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from s8_shared.mongo import Document
from s8_shared.outbox import OutboxItem


class InMemoryOutbox:
    def __init__(self, surveys: dict[str, Document]) -> None:
        self.surveys = surveys

    async def items(self, doc_id: str) -> list[OutboxItem]:
        return [OutboxItem(**item) for item in self.surveys.get(doc_id, {}).get("outbox", [])]

    async def remove(self, doc_id: str, event_ids: Sequence[str]) -> None:
        doc = self.surveys.get(doc_id)
        if doc is None:
            return
        doc["outbox"] = [i for i in doc.get("outbox", []) if i["event_id"] not in event_ids]
        if not doc["outbox"]:
            doc["has_outbox"] = False

    async def pending(self, limit: int = 100) -> list[str]:
        return [k for k, doc in self.surveys.items() if doc.get("has_outbox")][:limit]


class InMemorySurveyStore:
    def __init__(self) -> None:
        self.surveys: dict[str, Document] = {}
        self.customers: dict[str, Document] = {}
        self._outbox = InMemoryOutbox(self.surveys)

    @property
    def outbox(self) -> InMemoryOutbox:
        return self._outbox

    @staticmethod
    def _push(doc: Document, events: Sequence[OutboxItem]) -> None:
        if events:
            doc.setdefault("outbox", []).extend(asdict(e) for e in events)
            doc["has_outbox"] = True

    async def schedule(self, survey: Document) -> bool:
        if survey["_id"] in self.surveys:
            return False
        self.surveys[survey["_id"]] = copy.deepcopy(survey)
        return True

    async def get(self, survey_id: str) -> Document | None:
        doc = self.surveys.get(survey_id)
        return copy.deepcopy(doc) if doc is not None else None

    async def for_ticket(self, ticket_id: str, kind: str) -> Document | None:
        for doc in self.surveys.values():
            if doc.get("ticket_id") == ticket_id and doc["kind"] == kind:
                return copy.deepcopy(doc)
        return None

    async def next_due(self, now: datetime) -> Document | None:
        due = [
            d for d in self.surveys.values() if d["state"] == "scheduled" and d["send_at"] <= now
        ]
        return copy.deepcopy(min(due, key=lambda d: d["send_at"])) if due else None

    async def mark_sent(self, survey_id: str, now: datetime, events: Sequence[OutboxItem]) -> bool:
        doc = self.surveys.get(survey_id)
        if doc is None or doc["state"] != "scheduled":
            return False
        doc.update(state="sent", sent_at=now)
        self._push(doc, events)
        return True

    async def record_answer(
        self, survey_id: str, revision: int, fields: dict[str, Any], events: Sequence[OutboxItem]
    ) -> Document | None:
        doc = self.surveys.get(survey_id)
        if doc is None or doc.get("revision") != revision - 1:
            return None
        doc.update({**copy.deepcopy(fields), "revision": revision, "state": "answered"})
        self._push(doc, events)
        return copy.deepcopy(doc)

    async def customer(self, customer_id: str) -> Document:
        return copy.deepcopy(self.customers.get(customer_id) or {"_id": customer_id})

    async def note_solved(self, customer_id: str, ticket_id: str) -> int:
        doc = self.customers.setdefault(customer_id, {"_id": customer_id})
        solved = doc.setdefault("solved_tickets", [])
        if ticket_id not in solved:
            solved.append(ticket_id)
        return len(solved)

    async def note_planned(self, customer_id: str, kind: str, at: datetime) -> None:
        self.customers.setdefault(customer_id, {"_id": customer_id})[f"last_{kind}_at"] = at

    async def rates(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for doc in self.surveys.values():
            states = out.setdefault(doc["kind"], {})
            states[doc["state"]] = states.get(doc["state"], 0) + 1
        return out
