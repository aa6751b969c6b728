"""Intake's application service: store first, publish after, idempotent throughout."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from s8_intake.adapters.repository import TicketRepository
from s8_intake.domain.tickets import open_ticket, ticket_created
from s8_shared import topics
from s8_shared.contracts import InboundMessage, InvalidMessage, utcnow
from s8_shared.contracts.envelope import load_json_object, validation_reason
from s8_shared.kafka.publisher import Publisher

log = logging.getLogger("s8.intake")


def decode_inbound(raw: bytes | str) -> InboundMessage:
    data = load_json_object(raw)
    try:
        return InboundMessage.model_validate(data)
    except ValidationError as exc:
        raise InvalidMessage(f"invalid inbound message: {validation_reason(exc)}") from exc


@dataclass(frozen=True)
class Accepted:
    ticket_id: str
    duplicate: bool


class IntakeService:
    def __init__(
        self,
        repo: TicketRepository,
        publisher: Publisher,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.repo = repo
        self.publisher = publisher
        self.clock = clock

    async def accept(self, inbound: InboundMessage) -> Accepted:
        """Turns a customer message into a stored ticket and a `ticket.created` event.

        A redelivered message finds its ticket already stored; if the event was not yet
        published (a crash between store and publish) it is published again with the
        same event id, so nothing is lost and downstream recognizes the repeat.
        """
        new = open_ticket(inbound, self.clock())
        ticket, message, published = await self.repo.store_new(new.ticket, new.message, inbound.raw)
        if published:
            log.info("duplicate inbound message ignored", extra={"message_id": message.message_id})
            return Accepted(ticket.ticket_id, duplicate=True)
        await self.publisher.publish(topics.TICKETS, ticket_created(ticket, message))
        await self.repo.mark_published(message.message_id)
        return Accepted(ticket.ticket_id, duplicate=False)

    async def ticket(self, ticket_id: str) -> dict[str, Any] | None:
        return await self.repo.get(ticket_id)
