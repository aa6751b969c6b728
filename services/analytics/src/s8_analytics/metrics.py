"""KPI gauges for Grafana, recomputed from stored facts (never from process memory)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from s8_analytics.adapters.facts import FactStore
from s8_analytics.domain.kpis import csat, nps
from s8_analytics.domain.stats import OpenTicket, backlog

OPEN_STATUSES = ["new", "open", "pending", "on_hold"]
FRT_BUCKETS = (60, 300, 900, 1800, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 72 * 3600)


class TicketMetrics:
    """Counted once per ticket: the handlers run after the idempotency check."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.created = Counter(
            "s8_kpi_tickets_created_total",
            "Tickets created.",
            ["channel", "priority"],
            registry=registry,
        )
        self.first_response = Histogram(
            "s8_kpi_first_response_seconds",
            "Calendar time to the first agent reply.",
            ["channel", "priority"],
            buckets=FRT_BUCKETS,
            registry=registry,
        )


class KpiGauges:
    def __init__(
        self, registry: CollectorRegistry, facts: FactStore, clock: Callable[[], datetime]
    ) -> None:
        self.facts = facts
        self.clock = clock
        self.csat = Gauge(
            "s8_kpi_csat_percent", "CSAT % over a rolling window.", ["window"], registry=registry
        )
        self.nps = Gauge("s8_kpi_nps", "NPS over a rolling window.", ["window"], registry=registry)
        self.backlog = Gauge(
            "s8_kpi_backlog_tickets",
            "Open tickets by status, priority and age.",
            ["status", "priority", "age"],
            registry=registry,
        )

    async def refresh(self) -> None:
        now = self.clock()
        for label, days in (("1d", 1), ("7d", 7), ("30d", 30)):
            answered = await self.facts.surveys_between(
                "answered_at", now - timedelta(days=days), now
            )
            csat_result = csat(
                [int(s["score"]) for s in answered if s.get("kind") == "csat" and "score" in s], 0
            )
            nps_result = nps(
                [int(s["score"]) for s in answered if s.get("kind") == "nps" and "score" in s]
            )
            if csat_result.percent is not None:
                self.csat.labels(label).set(csat_result.percent)
            if nps_result.score is not None:
                self.nps.labels(label).set(nps_result.score)
        self.backlog.clear()
        for doc in await self.open_tickets():
            age = backlog([OpenTicket(doc["status"], doc["priority"], doc["created_at"])], now)
            bucket = next(k for k, v in age.by_age.items() if v)
            self.backlog.labels(doc["status"], doc["priority"], bucket).inc()

    async def open_tickets(self) -> list[dict[str, Any]]:
        cursor = self.facts.tickets.find(
            {"status": {"$in": OPEN_STATUSES}},
            projection={"status": 1, "priority": 1, "created_at": 1},
        )
        return [d async for d in cursor]
