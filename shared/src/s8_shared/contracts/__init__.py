"""Event and API contracts shared by every s8 service (one place for each contract)."""

from s8_shared.contracts.actions import ACTION_ADAPTER, TicketAction
from s8_shared.contracts.agents import AgentProfile, Presence
from s8_shared.contracts.assignments import ASSIGNMENT_EVENTS, AssignmentEvent, AssignmentPayload
from s8_shared.contracts.common import Channel, CustomerTier, Language, Priority, TicketStatus
from s8_shared.contracts.customers import CustomerProfileUpsert, Identity
from s8_shared.contracts.deadletter import DEADLETTER_EVENTS, DeadLetterPayload, DeadLetterRecorded
from s8_shared.contracts.envelope import (
    Contract,
    Event,
    EventFamily,
    InvalidMessage,
    deterministic_id,
    utcnow,
)
from s8_shared.contracts.inbound import ChannelMessage, InboundMessage, parse_inbound
from s8_shared.contracts.outbound import (
    OUTBOUND_EVENTS,
    OutboundMessagePayload,
    OutboundMessageRequested,
)
from s8_shared.contracts.sla import SLA_EVENTS, SlaEvent, SlaPayload, SlaTarget
from s8_shared.contracts.surveys import SURVEY_EVENTS, SurveyEvent, SurveyKind
from s8_shared.contracts.tickets import (
    TICKET_EVENTS,
    Author,
    MessageInfo,
    TicketCreated,
    TicketCreatedPayload,
    TicketDeflected,
    TicketEvent,
    TicketMerged,
    TicketMessageAdded,
    TicketPriorityChanged,
    TicketSnapshot,
    TicketStatusChanged,
    TicketTransferred,
)

__all__ = [
    "ACTION_ADAPTER",
    "ASSIGNMENT_EVENTS",
    "DEADLETTER_EVENTS",
    "OUTBOUND_EVENTS",
    "SLA_EVENTS",
    "SURVEY_EVENTS",
    "TICKET_EVENTS",
    "AgentProfile",
    "AssignmentEvent",
    "AssignmentPayload",
    "Author",
    "Channel",
    "ChannelMessage",
    "Contract",
    "CustomerProfileUpsert",
    "CustomerTier",
    "DeadLetterPayload",
    "DeadLetterRecorded",
    "Event",
    "EventFamily",
    "Identity",
    "InboundMessage",
    "InvalidMessage",
    "Language",
    "MessageInfo",
    "OutboundMessagePayload",
    "OutboundMessageRequested",
    "Presence",
    "Priority",
    "SlaEvent",
    "SlaPayload",
    "SlaTarget",
    "SurveyEvent",
    "SurveyKind",
    "TicketAction",
    "TicketCreated",
    "TicketCreatedPayload",
    "TicketDeflected",
    "TicketEvent",
    "TicketMerged",
    "TicketMessageAdded",
    "TicketPriorityChanged",
    "TicketSnapshot",
    "TicketStatus",
    "TicketStatusChanged",
    "TicketTransferred",
    "deterministic_id",
    "parse_inbound",
    "utcnow",
]
