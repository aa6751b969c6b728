"""SLA monitor metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LAG_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600)


class SlaMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.open_clocks = Gauge(
            "s8_sla_open_clocks",
            "Clocks not yet met or cancelled.",
            ["target", "state"],
            registry=registry,
        )
        self.fired = Counter(
            "s8_sla_events_total",
            "Warnings and breaches fired.",
            ["kind", "target", "priority", "channel"],
            registry=registry,
        )
        self.clock_events = Counter(
            "s8_sla_clock_events_total",
            "SLA events published, by type.",
            ["type", "target"],
            registry=registry,
        )
        self.lag = Histogram(
            "s8_sla_scheduler_lag_seconds",
            "Fire time minus due time.",
            buckets=LAG_BUCKETS,
            registry=registry,
        )
        self.scheduler_last_run = Gauge(
            "s8_sla_scheduler_last_run_timestamp_seconds",
            "When the scheduler last looked for due clocks (Unix time): a stalled scheduler "
            "fires nothing, so its lag histogram alone would stay quiet.",
            registry=registry,
        )

    def scheduler_ran(self) -> None:
        self.scheduler_last_run.set_to_current_time()
