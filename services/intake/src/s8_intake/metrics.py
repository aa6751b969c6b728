"""Intake's own Prometheus metrics (consumption metrics come from the shared middleware)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from s8_shared.contracts import TicketSnapshot


class IntakeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.received = Counter(
            "s8_intake_messages_total",
            "Customer messages received.",
            ["channel"],
            registry=registry,
        )
        self.skipped = Counter(
            "s8_intake_messages_skipped_total",
            "Messages that made no ticket (auto-replies, bounces, mail loops).",
            ["channel"],
            registry=registry,
        )
        self.tickets = Counter(
            "s8_intake_tickets_created_total",
            "Tickets opened.",
            ["channel", "priority"],
            registry=registry,
        )
        self.negative = Counter(
            "s8_intake_negative_messages_total",
            "Customer messages with clearly negative sentiment (a manager may step in).",
            ["channel"],
            registry=registry,
        )
        self.deflected = Counter(
            "s8_intake_faq_deflections_total",
            "New tickets answered by a FAQ auto-reply.",
            ["channel"],
            registry=registry,
        )
        self.bot_conversations = Counter(
            "s8_intake_bot_conversations_total",
            "Chatbot conversations seen, by whether the bot handed off to a human.",
            ["handoff"],
            registry=registry,
        )
        self.published = Counter(
            "s8_intake_events_published_total",
            "Events published from ticket outboxes, by topic.",
            ["topic"],
            registry=registry,
        )
        self.problem_notices = Counter(
            "s8_intake_problem_notices_total",
            "Notices sent to customers about known problems, by notice (declared, update, "
            "resolved).",
            ["notice"],
            registry=registry,
        )
        self.incidents_linked = Counter(
            "s8_intake_incidents_linked_total",
            "Tickets linked to a known problem, by who linked them (auto or agent).",
            ["by"],
            registry=registry,
        )
        self.actions = Counter(
            "s8_intake_actions_total", "Agent actions applied.", ["kind"], registry=registry
        )
        self.refused = Counter(
            "s8_intake_actions_refused_total",
            "Agent actions the ticket state machine refused.",
            ["kind"],
            registry=registry,
        )

    def count_new(self, snap: TicketSnapshot) -> None:
        """A ticket opened (and how: after a bot handoff, answered by a FAQ article)."""
        self.tickets.labels(snap.channel.value, snap.priority.value).inc()
        if snap.bot_handoff:
            self.bot_conversations.labels("yes").inc()
        if snap.deflected:
            self.deflected.labels(snap.channel.value).inc()
