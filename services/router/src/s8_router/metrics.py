"""Router metrics for the SRE dashboards."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

WAIT_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class RouterMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.queue_depth = Gauge(
            "s8_router_queue_depth",
            "Tickets waiting for an agent.",
            ["priority", "skills"],
            registry=registry,
        )
        self.time_in_queue = Histogram(
            "s8_router_time_in_queue_seconds",
            "From queued to assigned.",
            ["priority"],
            buckets=WAIT_BUCKETS,
            registry=registry,
        )
        self.assignment_latency = Histogram(
            "s8_router_assignment_latency_seconds",
            "From the ticket event to the routing decision.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.occupancy = Gauge(
            "s8_router_agent_occupancy_ratio",
            "Active tickets ÷ capacity per agent.",
            ["agent_id", "team"],
            registry=registry,
        )
        self.agents_online = Gauge(
            "s8_router_agents_online", "Agents online.", ["team"], registry=registry
        )
        self.capacity_repairs = Counter(
            "s8_router_capacity_repairs_total",
            "Agents whose recorded load differed from their routing records and was repaired "
            "(a slot leaked by a crash between claim and release).",
            registry=registry,
        )
        self.reannounced = Counter(
            "s8_router_reconciled_records_total",
            "Routing records the reconciler announced again or routed again.",
            ["action"],
            registry=registry,
        )
        self.decisions = Counter(
            "s8_router_decisions_total",
            "Routing decisions by event type and reason.",
            ["type", "reason"],
            registry=registry,
        )
