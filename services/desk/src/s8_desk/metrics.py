"""Desk metrics: open streams and how long a notice takes from its event to the stream."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class DeskMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.streams = Gauge(
            "s8_desk_open_streams", "Agents' live streams open on this replica.", registry=registry
        )
        self.notices = Counter(
            "s8_desk_notices_total", "Notices pushed to open streams.", ["kind"], registry=registry
        )
        self.delivery = Histogram(
            "s8_desk_notice_delivery_seconds",
            "From the event that caused a notice to its push to an open stream.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=registry,
        )
