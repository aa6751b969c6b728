"""SLA clocks on the real store: a ticket's new clocks are stored in one command, and once
stored they are never inserted over."""

import pytest

from s8_shared.outbox import OutboxItem
from s8_sla_monitor.adapters.clock_store import ClockStore
from s8_sla_monitor.domain.clock import Clock
from s8_sla_monitor.ports import ClockSave
from s8_testing.builders import T0
from s8_testing.harness import TestStack

pytestmark = pytest.mark.integration


def clock(target: str) -> Clock:
    return Clock(
        clock_id=f"T-1/{target}/1",
        ticket_id="T-1",
        target=target,
        cycle=1,
        policy_id="default",
        calendar_id="vn-office",
        target_seconds=3600,
        warn_at=0.8,
        pause_on=frozenset({"pending"}),
        priority="normal",
        channel="chat",
        started_at=T0,
        state="running",
        elapsed_before=0.0,
        running_since=T0,
    )


def started(target: str) -> OutboxItem:
    return OutboxItem(f"started-{target}", "support.sla.v1", "T-1", "{}")


async def test_new_clocks_are_stored_together_with_their_outboxes_and_once(
    stack: TestStack,
) -> None:
    async with stack.store("clocks") as store:
        clocks = ClockStore(store)
        saves = [ClockSave(clock(t), T0, None, [started(t)]) for t in ("first_response", "resolution")]  # fmt: skip
        assert await clocks.save_all(saves)
        stored = await clocks.for_ticket("T-1")
        assert sorted((c.target, rev, [i.event_id for i in items]) for c, rev, items in stored) == [
            ("first_response", 1, ["started-first_response"]),
            ("resolution", 1, ["started-resolution"]),
        ]
        changed = ClockSave(clock("resolution"), None, None, [started("again")])
        assert not await clocks.save_all([saves[0], changed])  # they exist: nothing changes
        assert not await clocks.save_all([changed])
        assert sorted(await clocks.outbox.pending()) == ["T-1/first_response/1", "T-1/resolution/1"]
        await clocks.outbox.remove_all({c.clock_id: [i.event_id for i in items] for c, _, items in stored})  # fmt: skip
        assert await clocks.outbox.pending() == []
