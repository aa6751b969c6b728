"""Ticket volume summaries."""

from __future__ import annotations

from s8_shared.contracts import Channel


def volume_by_channel(counts: dict[str, int]) -> dict[str, int]:
    """Every channel present (zero when silent), so dashboards do not lose series."""
    return {c.value: counts.get(c.value, 0) for c in Channel}
