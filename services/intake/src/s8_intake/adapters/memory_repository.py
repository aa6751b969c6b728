"""An in-memory TicketRepository with the Mongo one's semantics, for unit tests."""

from __future__ import annotations

from typing import Any

from s8_shared.contracts import MessageInfo, TicketSnapshot


class InMemoryTicketRepository:
    def __init__(self) -> None:
        self.tickets: dict[str, TicketSnapshot] = {}
        self.messages: dict[str, tuple[MessageInfo, str, dict[str, Any]]] = {}
        self.published: set[str] = set()

    async def store_new(
        self, ticket: TicketSnapshot, message: MessageInfo, raw: dict[str, Any]
    ) -> tuple[TicketSnapshot, MessageInfo, bool]:
        stored_msg, ticket_id, _ = self.messages.setdefault(
            message.message_id, (message, ticket.ticket_id, raw)
        )
        stored_ticket = self.tickets.setdefault(ticket_id, ticket)
        return stored_ticket, stored_msg, message.message_id in self.published

    async def mark_published(self, message_id: str) -> None:
        self.published.add(message_id)

    async def get(self, ticket_id: str) -> dict[str, Any] | None:
        if ticket_id not in self.tickets:
            return None
        messages = [m for m, t, _ in self.messages.values() if t == ticket_id]
        return {"ticket": self.tickets[ticket_id], "messages": messages}
