"""Event and API contracts shared by every s8 service (one place for each contract)."""

from s8_shared.contracts.common import Channel, CustomerTier, Language, Priority, TicketStatus
from s8_shared.contracts.deadletter import DEADLETTER_EVENTS, DeadLetterPayload, DeadLetterRecorded
from s8_shared.contracts.envelope import (
    Contract,
    Event,
    EventFamily,
    InvalidMessage,
    deterministic_id,
    utcnow,
)
from s8_shared.contracts.inbound import InboundMessage
from s8_shared.contracts.tickets import (
    TICKET_EVENTS,
    Author,
    MessageInfo,
    TicketCreated,
    TicketCreatedPayload,
    TicketEvent,
    TicketMessageAdded,
    TicketSnapshot,
    TicketStatusChanged,
)

__all__ = [
    "DEADLETTER_EVENTS",
    "TICKET_EVENTS",
    "Author",
    "Channel",
    "Contract",
    "CustomerTier",
    "DeadLetterPayload",
    "DeadLetterRecorded",
    "Event",
    "EventFamily",
    "InboundMessage",
    "InvalidMessage",
    "Language",
    "MessageInfo",
    "Priority",
    "TicketCreated",
    "TicketCreatedPayload",
    "TicketEvent",
    "TicketMessageAdded",
    "TicketSnapshot",
    "TicketStatus",
    "TicketStatusChanged",
    "deterministic_id",
    "utcnow",
]
