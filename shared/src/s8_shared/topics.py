"""Every Kafka topic s8 uses, declared once.

The provisioning step (`python -m s8_shared.kafka.provision`) and the Helm chart's
topic Job both read this list, so a topic's partitions, retention and compaction
are defined in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class TopicSpec:
    """A topic and the key that keeps related events in order on it."""

    base_name: str
    description: str
    key: str
    partitions: int = 6
    retention_ms: int = 7 * DAY_MS
    compacted: bool = False
    extra_config: dict[str, str] = field(default_factory=dict)

    def name(self, namespace: str = "") -> str:
        """The physical topic name; a namespace isolates test runs or tenants."""
        return f"{namespace}{self.base_name}"

    @property
    def short_name(self) -> str:
        """`support.tickets.v1` → `tickets`."""
        return self.base_name.split(".")[1]

    def config(self) -> dict[str, str]:
        cfg = {
            "cleanup.policy": "compact" if self.compacted else "delete",
            "retention.ms": str(-1 if self.compacted else self.retention_ms),
        }
        cfg.update(self.extra_config)
        return cfg


INBOUND = TopicSpec(
    "support.inbound.v1",
    "Raw customer messages from every channel; other systems publish here.",
    key="channel + conversation or sender id (keeps one conversation in order)",
    retention_ms=14 * DAY_MS,
)
TICKETS = TopicSpec(
    "support.tickets.v1",
    "Canonical ticket events produced by intake.",
    key="ticket_id",
    retention_ms=30 * DAY_MS,
)
ACTIONS = TopicSpec(
    "support.actions.v1",
    "Agent actions on tickets (replies, notes, status changes, transfers).",
    key="ticket_id",
)
CUSTOMERS = TopicSpec(
    "support.customers.v1",
    "Customer attribute upserts (tier, language, region) from CRM systems.",
    key="customer_id",
    compacted=True,
)
AGENTS = TopicSpec(
    "support.agents.v1",
    "Agent roster and presence, latest state per agent.",
    key="agent_id",
    partitions=3,
    compacted=True,
)
ASSIGNMENTS = TopicSpec(
    "support.assignments.v1",
    "Routing decisions: assigned, queued, reassigned, escalated, unassigned.",
    key="ticket_id",
)
SLA = TopicSpec(
    "support.sla.v1",
    "SLA clock events: started, warning, breached, met, paused, resumed, cancelled.",
    key="ticket_id",
)
SURVEYS = TopicSpec(
    "support.surveys.v1",
    "Survey requests, responses and follow-up requests.",
    key="ticket_id (CSAT) or customer_id (NPS)",
)
OUTBOUND = TopicSpec(
    "support.outbound.v1",
    "Messages s8 wants delivered to customers (auto-replies, acknowledgements, surveys).",
    key="ticket_id or customer_id",
)
PROBLEMS = TopicSpec(
    "support.problems.v1",
    "Known problems (declared, updated, resolved) and the proactive notices sent about them.",
    key="problem_id",
    partitions=3,
    retention_ms=30 * DAY_MS,
)
DEADLETTER = TopicSpec(
    "support.deadletter.v1",
    "Messages a service could not process, with the reason and the original bytes.",
    key="the original message key",
    partitions=3,
    retention_ms=30 * DAY_MS,
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    INBOUND,
    TICKETS,
    ACTIONS,
    CUSTOMERS,
    AGENTS,
    ASSIGNMENTS,
    SLA,
    SURVEYS,
    OUTBOUND,
    PROBLEMS,
    DEADLETTER,
)
