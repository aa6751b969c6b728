"""Channels metrics: webhooks by platform and outcome, refused signatures, deliveries."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class ChannelMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.received = Counter(
            "s8_channels_received_total",
            "Platform requests by platform and outcome (published, duplicate, ignored, invalid).",
            ["platform", "outcome"],
            registry=registry,
        )
        self.refused = Counter(
            "s8_channels_signature_failures_total",
            "Requests refused (401) for a missing or wrong signature or token.",
            ["platform"],
            registry=registry,
        )
        self.deliveries = Counter(
            "s8_channels_deliveries_total",
            "Outbound messages by provider and outcome (delivered, retried, failed).",
            ["provider", "outcome"],
            registry=registry,
        )
        self.delivery_seconds = Histogram(
            "s8_channels_delivery_seconds",
            "From the outbound request's event to the provider's acceptance.",
            ["provider"],
            buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
            registry=registry,
        )
