from __future__ import annotations

from typing import Any

import pytest

from s8_shared.contracts import Author, MessageInfo, Priority, TicketStatus
from s8_shared.contracts.tickets import (
    TicketMerged,
    TicketMergedPayload,
    TicketMessageAdded,
    TicketMessageAddedPayload,
    TicketPriorityChanged,
    TicketPriorityChangedPayload,
    TicketStatusChanged,
    TicketStatusChangedPayload,
)
from s8_sla_monitor.domain.triggers import (
    Merged,
    MessageAdded,
    Opened,
    StatusChanged,
    Updated,
    trigger_for,
)
from s8_testing.builders import T0, make_snapshot, make_ticket_created


def status_changed(frm: str, to: str, **snapshot: Any) -> TicketStatusChanged:
    snap = make_snapshot(status=to, **snapshot)
    payload = TicketStatusChangedPayload(
        ticket_id="T-1", ticket=snap, from_status=TicketStatus(frm), to_status=TicketStatus(to)
    )
    return TicketStatusChanged(producer="s8-test", occurred_at=T0, payload=payload)


@pytest.mark.parametrize("has_clocks", [False, True])
def test_a_created_ticket_opens_its_clocks(has_clocks: bool) -> None:
    assert trigger_for(make_ticket_created(), has_clocks=has_clocks) == Opened()


@pytest.mark.parametrize(
    "snapshot",
    [{"deflected": True, "status": "pending"}, {"problem_id": "P-1", "status": "pending"}],
    ids=["faq-answered", "known-problem"],
)
def test_a_parked_ticket_starts_no_clock_when_created(snapshot: dict[str, Any]) -> None:
    assert trigger_for(make_ticket_created(**snapshot), has_clocks=False) is None


def test_a_linked_ticket_that_is_open_is_not_parked() -> None:
    created = make_ticket_created(problem_id="P-1", status="open")
    assert trigger_for(created, has_clocks=False) == Opened()


def test_a_parked_ticket_reopened_for_a_human_opens_its_clocks() -> None:
    event = status_changed("pending", "open", deflected=True)
    assert trigger_for(event, has_clocks=False) == Opened()
    assert trigger_for(event, has_clocks=True) == StatusChanged(
        TicketStatus.PENDING, TicketStatus.OPEN
    )


def test_a_status_change_carries_both_statuses() -> None:
    assert trigger_for(status_changed("open", "solved"), has_clocks=False) == StatusChanged(
        TicketStatus.OPEN, TicketStatus.SOLVED
    )


def test_a_message_carries_its_author_and_visibility() -> None:
    message = MessageInfo(
        message_id="m2", author=Author.AGENT, channel="email", text="…", sent_at=T0, public=False
    )
    payload = TicketMessageAddedPayload(ticket_id="T-1", ticket=make_snapshot(), message=message)
    event = TicketMessageAdded(producer="s8-test", occurred_at=T0, payload=payload)
    assert trigger_for(event, has_clocks=True) == MessageAdded(Author.AGENT, public=False)


def test_merge_and_other_changes() -> None:
    snap = make_snapshot(status="closed")
    merged = TicketMerged(
        producer="s8-test",
        payload=TicketMergedPayload(ticket_id="T-1", ticket=snap, into_ticket_id="T-2"),
    )
    assert trigger_for(merged, has_clocks=True) == Merged()
    priority = TicketPriorityChanged(
        producer="s8-test",
        payload=TicketPriorityChangedPayload(
            ticket_id="T-1",
            ticket=make_snapshot(priority="urgent"),
            from_priority=Priority.NORMAL,
            to_priority=Priority.URGENT,
        ),
    )
    assert trigger_for(priority, has_clocks=True) == Updated()
