"""In-memory fakes of the ports intake's application services take (`s8_intake/ports.py`),
for fast tests of those services without a broker or store (the shape of cosmicpython's
`FakeRepository` / `FakeUnitOfWork`). Each counts the calls a test may ask about."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from s8_intake.adapters.customer_store import ResolvedCustomer
from s8_intake.adapters.outbox import OutboxItem, outbox_item
from s8_intake.domain.candidates import Candidate
from s8_intake.domain.customers import KnownCustomer, identity_key, resolve
from s8_intake.domain.first_answer import IncidentMatch
from s8_intake.domain.model import Classification, NormalizedMessage
from s8_intake.domain.threading import TicketRef
from s8_intake.domain.ticket import TicketState
from s8_shared.contracts import Event, Identity, MessageInfo, TicketSnapshot
from s8_shared.contracts.problems import ProblemSnapshot
from s8_shared.mongo import Document
from s8_shared.topics import TopicSpec


class FakeTickets:
    """Tickets with their outboxes (`Tickets` and `TicketOutboxes`)."""

    def __init__(self) -> None:
        self.states: dict[str, TicketState] = {}
        self.applied: dict[str, list[str]] = {}
        self.outboxes: dict[str, list[OutboxItem]] = {}
        self.calls: Counter[str] = Counter()

    async def load(self, ticket_id: str) -> tuple[TicketState, frozenset[str]] | None:
        self.calls["load"] += 1
        if ticket_id not in self.states:
            return None
        return self.states[ticket_id], frozenset(self.applied[ticket_id])

    async def insert(
        self, state: TicketState, applied_key: str, events: Sequence[Event[Any]]
    ) -> bool:
        self.calls["insert"] += 1
        ticket_id = state.snapshot.ticket_id
        if ticket_id in self.states:
            return False
        self.states[ticket_id] = state
        self.applied[ticket_id] = [applied_key]
        self.outboxes[ticket_id] = [outbox_item(e) for e in events]
        return True

    async def update(
        self,
        state: TicketState,
        expected_version: int,
        applied_key: str,
        events: Sequence[Event[Any]],
    ) -> bool:
        self.calls["update"] += 1
        ticket_id = state.snapshot.ticket_id
        current = self.states.get(ticket_id)
        if current is None or current.snapshot.version != expected_version:
            return False
        if applied_key in self.applied[ticket_id]:
            return False
        self.states[ticket_id] = state
        self.applied[ticket_id].append(applied_key)
        self.outboxes[ticket_id] += [outbox_item(e) for e in events]
        return True

    async def candidates(
        self,
        *,
        token: str | None,
        thread_refs: Sequence[str],
        conversation_key: str | None,
        customer_ids: Sequence[str],
    ) -> list[TicketRef]:
        self.calls["candidates"] += 1
        found: list[TicketRef] = []
        newest_first = sorted(self.states.values(), key=lambda s: s.snapshot.created_at)[::-1]
        if token in self.states and self.states[token].snapshot.customer_id in customer_ids:
            found.append(_ref(self.states[token], "token"))
        by_thread = [s for s in newest_first if set(thread_refs) & set(s.email_message_ids)]
        found += [_ref(s, "email_thread") for s in by_thread[:1]]
        by_key = [s for s in newest_first if conversation_key in s.conversation_keys]
        found += [_ref(s, "conversation") for s in by_key[:1]]
        return found

    async def for_customers(
        self, customer_ids: Sequence[str], limit: int = 100
    ) -> list[TicketSnapshot]:
        mine = [s.snapshot for s in self.states.values() if s.snapshot.customer_id in customer_ids]
        return sorted(mine, key=lambda s: s.created_at, reverse=True)[:limit]

    async def outbox(self, ticket_id: str) -> list[OutboxItem]:
        self.calls["outbox"] += 1
        return list(self.outboxes.get(ticket_id, []))

    async def remove_from_outbox(self, ticket_id: str, event_ids: Sequence[str]) -> None:
        self.calls["remove_from_outbox"] += 1
        gone = set(event_ids)
        self.outboxes[ticket_id] = [i for i in self.outboxes[ticket_id] if i.event_id not in gone]

    async def with_outbox(self, limit: int = 100) -> list[str]:
        return [t for t, items in self.outboxes.items() if items][:limit]


def _ref(state: TicketState, matched_by: str) -> TicketRef:
    snap = state.snapshot
    last = max(d for d in (snap.updated_at, snap.last_customer_message_at) if d is not None)
    return TicketRef(
        snap.ticket_id, snap.customer_id, snap.status, last, snap.solved_at, matched_by
    )


class FakeMessages:
    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}
        self.skipped: dict[str, str] = {}
        self.calls: Counter[str] = Counter()

    async def get(self, dedup_key: str) -> Document | None:
        self.calls["get"] += 1
        return self.docs.get(dedup_key)

    async def claim(
        self, dedup_key: str, ticket_id: str, threading: str, linked_ticket_id: str | None
    ) -> Document:
        self.calls["claim"] += 1
        return self.docs.setdefault(
            dedup_key,
            {
                "_id": dedup_key,
                "ticket_id": ticket_id,
                "threading": threading,
                "linked_ticket_id": linked_ticket_id,
                "state": "pending",
            },
        )

    async def mark_applied(
        self,
        info: MessageInfo,
        raw: dict[str, Any],
        details: dict[str, Any],
        filed: Document,
    ) -> None:
        self.calls["mark_applied"] += 1
        filing = {k: filed.get(k) for k in ("ticket_id", "threading", "linked_ticket_id")}
        self.docs[info.message_id] = {
            **self.docs.get(info.message_id, {"_id": info.message_id}),
            **info.model_dump(mode="python"),
            **filing,
            "state": "applied",
        }

    async def add_agent_message(self, ticket_id: str, info: MessageInfo) -> None:
        self.docs.setdefault(
            info.message_id,
            {**info.model_dump(mode="python"), "ticket_id": ticket_id, "state": "applied"},
        )

    async def for_ticket(self, ticket_id: str) -> list[MessageInfo]:
        return [
            MessageInfo.model_validate(d)
            for d in self.docs.values()
            if d.get("ticket_id") == ticket_id and d.get("state") == "applied"
        ]

    async def record_skipped(
        self, dedup_key: str, reason: str, at: datetime, raw: dict[str, Any]
    ) -> None:
        self.skipped.setdefault(dedup_key, reason)


class FakeCustomers:
    """Customers and identities, resolved as the store does (`domain.customers.resolve`)."""

    def __init__(self) -> None:
        self.docs: dict[str, Document] = {}
        self.links: dict[str, str] = {}  # identity key -> customer id
        self.calls: Counter[str] = Counter()
        self.noted: list[tuple[str, tuple[Candidate, ...]]] = []

    async def resolve(
        self, identities: Sequence[Identity], now: datetime, source: str
    ) -> ResolvedCustomer:
        self.calls["resolve"] += 1
        owners = {
            key: KnownCustomer(cid, self.docs[cid]["created_at"])
            for key in (identity_key(i) for i in identities)
            if (cid := self.links.get(key)) is not None
        }
        resolution = resolve(identities, owners)
        cid = resolution.customer_id
        created = cid not in self.docs
        doc = self.docs.setdefault(
            cid, {"_id": cid, "created_at": now, "tier": "standard", "merged_into": None}
        )
        for identity in resolution.new_identities:
            self.links[identity_key(identity)] = cid
        for merged in resolution.merged_customer_ids:
            self.docs[merged]["merged_into"] = cid
            self.links.update({k: cid for k, v in self.links.items() if v == merged})
        related = {cid, *(c.customer_id for c in owners.values()), *await self.merged_into(cid)}
        return ResolvedCustomer(doc, sorted(related), created)

    async def get(self, customer_id: str) -> Document | None:
        return self.docs.get(customer_id)

    async def identities_of(self, customer_ids: Sequence[str]) -> list[Identity]:
        return [
            Identity(kind=key.split(":", 1)[0], value=key.split(":", 1)[1])
            for key, cid in self.links.items()
            if cid in customer_ids
        ]

    async def merged_into(self, customer_id: str) -> list[str]:
        return [d["_id"] for d in self.docs.values() if d.get("merged_into") == customer_id]

    async def merges_of(self, customer_id: str) -> list[Document]:
        return []

    async def update_profile(self, customer_id: str, fields: dict[str, Any]) -> None:
        self.docs[customer_id].update(fields)

    async def undo_merge(self, merge_id: str, now: datetime, by: str) -> Document:
        raise LookupError(merge_id)

    async def note_candidates(
        self,
        customer: ResolvedCustomer,
        asserted: Sequence[Candidate],
        *,
        channel: str,
        source: str,
        now: datetime,
    ) -> list[str]:
        """Recorded only: what candidates suggest is the store's (tests/test_identity_links)."""
        self.noted.append((customer.customer_id, tuple(asserted)))
        return []

    async def suggestions_of(self, customer_ids: Sequence[str]) -> list[Document]:
        return []

    async def confirm_suggestion(self, suggestion_id: str, now: datetime, by: str) -> Document:
        raise LookupError(suggestion_id)

    async def dismiss_suggestion(self, suggestion_id: str, now: datetime, by: str) -> Document:
        raise LookupError(suggestion_id)

    async def confirm_proven(
        self, customer_ids: tuple[str, str], proven: Sequence[Identity], now: datetime, by: str
    ) -> bool:
        return False  # no suggestions here (the store's: tests/test_intake_flows)


class FakeProblems:
    """Known problems: whatever `incident` says matches every new ticket."""

    def __init__(
        self,
        incident: IncidentMatch | None = None,
        problems: Sequence[ProblemSnapshot] = (),
    ) -> None:
        self.incident = incident
        self.problems = {p.problem_id: p for p in problems}
        self.calls: Counter[str] = Counter()

    async def match(
        self, customer: Document, msg: NormalizedMessage, classification: Classification
    ) -> IncidentMatch | None:
        self.calls["match"] += 1
        return self.incident

    async def problem(self, problem_id: str) -> ProblemSnapshot | None:
        return self.problems.get(problem_id)

    async def contacts_of(self, customer_ids: Sequence[str]) -> list[Document]:
        return []


class RecordingBroker:
    """The broker: records what is published, in order."""

    def __init__(self) -> None:
        self.raw: list[tuple[str, bytes]] = []
        self.events: list[tuple[str, Event[Any]]] = []

    async def publish(self, spec: TopicSpec, event: Event[Any]) -> None:
        self.events.append((spec.base_name, event))

    async def publish_raw(
        self,
        spec: TopicSpec,
        value: bytes,
        *,
        key: bytes | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.raw.append((spec.base_name, value))

    def types(self) -> list[str]:
        """The types of everything published, in order."""
        from_raw = [OutboxItem("", topic, "", body.decode()) for topic, body in self.raw]
        return [
            *(e.type for _, e in self.events),
            *(_type_of(item) for item in from_raw),
        ]


def _type_of(item: OutboxItem) -> str:
    event = item.event()
    return event.type if event is not None else "?"
