"""The ports intake's application services depend on. The Mongo adapters in `adapters/`
implement them; unit tests use the in-memory fakes in `s8_testing.intake_fakes`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from s8_intake.adapters.customer_store import ResolvedCustomer
from s8_intake.adapters.outbox import OutboxItem
from s8_intake.domain.candidates import Candidate
from s8_intake.domain.outreach import IdPage
from s8_intake.domain.threading import TicketRef
from s8_intake.domain.ticket import TicketState
from s8_shared import topics
from s8_shared.contracts import Channel, Event, Identity, MessageInfo, TicketSnapshot
from s8_shared.contracts.problems import NoticeKind, ProblemSegment, ProblemSnapshot, ProblemStatus
from s8_shared.mongo import Document
from s8_shared.pagination import PageRequest

Clock = Callable[[], datetime]
Loaded = tuple[TicketState, frozenset[str]]


class TicketNotFound(LookupError):
    pass


class Tickets(Protocol):
    """Tickets with their outbox (`adapters.ticket_store.TicketStore`)."""

    async def load(self, ticket_id: str) -> Loaded | None: ...

    async def insert(
        self, state: TicketState, applied_key: str, events: Sequence[Event[Any]]
    ) -> bool: ...

    async def update(
        self,
        state: TicketState,
        expected_version: int,
        applied_key: str,
        events: Sequence[Event[Any]],
    ) -> bool: ...

    async def candidates(
        self,
        *,
        token: str | None,
        thread_refs: Sequence[str],
        conversation_key: str | None,
        customer_ids: Sequence[str],
    ) -> list[TicketRef]: ...

    async def for_customers(
        self, customer_ids: Sequence[str], limit: int = 100
    ) -> list[TicketSnapshot]: ...


class TicketOutboxes(Protocol):
    async def outbox(self, ticket_id: str) -> list[OutboxItem]: ...

    async def remove_from_outbox(self, ticket_id: str, event_ids: Sequence[str]) -> None: ...

    async def with_outbox(self, limit: int = 100) -> list[str]: ...


class Messages(Protocol):
    """Messages by dedup key (`adapters.message_store.MessageStore`)."""

    async def get(self, dedup_key: str) -> Document | None: ...

    async def claim(
        self, dedup_key: str, ticket_id: str, threading: str, linked_ticket_id: str | None
    ) -> Document: ...

    async def mark_applied(
        self,
        info: MessageInfo,
        raw: dict[str, Any],
        details: dict[str, Any],
        filed: Document,
    ) -> None: ...

    async def add_agent_message(self, ticket_id: str, info: MessageInfo) -> None: ...

    async def for_ticket(self, ticket_id: str) -> list[MessageInfo]: ...

    async def record_skipped(
        self, dedup_key: str, reason: str, at: datetime, raw: dict[str, Any]
    ) -> None: ...


class Customers(Protocol):
    """Customers and identities (`adapters.customer_store.CustomerStore`)."""

    async def resolve(
        self, identities: Sequence[Identity], now: datetime, source: str
    ) -> ResolvedCustomer: ...

    async def get(self, customer_id: str) -> Document | None: ...

    async def identities_of(self, customer_ids: Sequence[str]) -> list[Identity]: ...

    async def merged_into(self, customer_id: str) -> list[str]: ...

    async def merges_of(self, customer_id: str) -> list[Document]: ...

    async def update_profile(self, customer_id: str, fields: dict[str, Any]) -> None: ...

    async def undo_merge(self, merge_id: str, now: datetime, by: str) -> Document: ...

    async def note_candidates(
        self,
        customer: ResolvedCustomer,
        asserted: Sequence[Candidate],
        *,
        channel: str,
        source: str,
        now: datetime,
    ) -> list[str]:
        """Keeps asserted identities as candidates; returns the merges they suggest."""
        ...

    async def suggestions_of(self, customer_ids: Sequence[str]) -> list[Document]: ...

    async def confirm_suggestion(self, suggestion_id: str, now: datetime, by: str) -> Document: ...

    async def dismiss_suggestion(self, suggestion_id: str, now: datetime, by: str) -> Document: ...

    async def confirm_proven(
        self, customer_ids: tuple[str, str], proven: Sequence[Identity], now: datetime, by: str
    ) -> bool:
        """Confirms their open suggestion about one of the `proven` identities, if any."""
        ...


class RawPublisher(Protocol):
    """Publishing stored events as they are: the broker's publisher, or intake's
    `OutboxPublisher` that counts them."""

    async def publish_raw(
        self,
        spec: topics.TopicSpec,
        value: bytes,
        *,
        key: bytes | None,
        headers: dict[str, str] | None = None,
    ) -> None: ...


class Broker(RawPublisher, Protocol):
    """The broker's publisher (`s8_shared.kafka.publisher.EventPublisher`)."""

    async def publish(self, spec: topics.TopicSpec, event: Event[Any]) -> None: ...


class Problems(Protocol):
    """Problems with their outbox (`adapters.problem_store.ProblemStore`)."""

    async def load(self, problem_id: str) -> tuple[ProblemSnapshot, frozenset[str]] | None: ...

    async def insert(
        self, problem: ProblemSnapshot, applied_key: str, events: Sequence[Event[Any]]
    ) -> bool: ...

    async def update(
        self,
        problem: ProblemSnapshot,
        expected_seq: int,
        applied_key: str,
        events: Sequence[Event[Any]],
    ) -> bool: ...

    async def open_problems(self) -> list[ProblemSnapshot]: ...

    async def page(
        self, status: ProblemStatus | None, page: PageRequest
    ) -> tuple[list[ProblemSnapshot], str | None]: ...

    async def outbox_items(self, problem_id: str) -> list[OutboxItem]: ...

    async def remove_from_outbox(self, problem_id: str, event_ids: Sequence[str]) -> None: ...

    async def with_outbox(self, limit: int = 100) -> list[str]: ...

    async def add_job(
        self, problem_id: str, update_seq: int, notice: NoticeKind, notify: bool
    ) -> None: ...

    async def jobs_of(self, problem_id: str) -> list[Document]: ...

    async def contact_counts(self, problem_id: str) -> dict[str, int]: ...

    async def contacts_of_customers(
        self, customer_ids: Sequence[str], limit: int = 50
    ) -> list[Document]: ...


class Outreaches(Protocol):
    """Outreach jobs and the notices sent (`adapters.problem_store.ProblemStore`)."""

    async def load(self, problem_id: str) -> tuple[ProblemSnapshot, frozenset[str]] | None: ...

    async def claim_job(self, owner: str, now: datetime, lease: timedelta) -> Document | None: ...

    async def advance_job(
        self, job_id: str, owner: str, cursor: str, sent: int, unreachable: int, done: bool
    ) -> None: ...

    async def mark_incidents_solved(self, job_id: str) -> None: ...

    async def claim_contact(self, contact: Document) -> bool: ...

    async def unpublished_contacts(
        self, older_than: datetime, limit: int = 200
    ) -> list[Document]: ...

    async def mark_published(self, contact_id: str) -> None: ...

    async def notified_customers(self, problem_id: str, after: str, limit: int) -> IdPage: ...


class Incidents(Protocol):
    """Tickets linked to problems (`adapters.ticket_store.TicketStore`)."""

    async def incidents_of(self, problem_id: str) -> list[TicketState]: ...

    async def incident_customers(self, problem_id: str, after: str, limit: int) -> IdPage: ...

    async def latest_incidents(
        self, problem_id: str, customer_ids: Sequence[str]
    ) -> dict[str, TicketState]: ...

    async def last_contact(self, customer_ids: Sequence[str]) -> tuple[Channel, str] | None: ...


class Audience(Protocol):
    """Customers as outreach reaches them (`adapters.customer_store.CustomerStore`)."""

    async def segment_page(self, segment: ProblemSegment, after: str, size: int) -> IdPage: ...

    async def profiles(self, customer_ids: Sequence[str]) -> dict[str, Document]: ...

    async def identities_by_customer(
        self, customer_ids: Sequence[str]
    ) -> dict[str, list[Identity]]: ...

    async def get(self, customer_id: str) -> Document | None: ...

    async def identities_of(self, customer_ids: Sequence[str]) -> list[Identity]: ...
