"""Which tickets still wait for an agent, in the order they should be served."""

from __future__ import annotations

from s8_shared.contracts import Priority, TicketStatus

PRIORITY_ORDER: tuple[Priority, ...] = (
    Priority.URGENT,
    Priority.HIGH,
    Priority.NORMAL,
    Priority.LOW,
)
WAITING_STATUSES: tuple[TicketStatus, ...] = (TicketStatus.NEW, TicketStatus.OPEN)


def queue_depths(counts: dict[str, int]) -> dict[str, int]:
    """Depth per priority, every priority present, most urgent first."""
    return {p.value: counts.get(p.value, 0) for p in PRIORITY_ORDER}
