"""Each agent's live stream: in order, each notice once, resumable after a reconnect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from s8_desk.stream import GAP_GRACE, Hub
from s8_shared.contracts.desk import Notice
from s8_testing.builders import T0


class Notices:
    """The store's notices (what `DeskReads` gives the hub)."""

    def __init__(self) -> None:
        self.stored: list[Notice] = []
        self.reserved = 0

    def add(self, agent: str, seq: int | None = None) -> Notice:
        self.reserved = seq if seq is not None else self.reserved + 1
        notice = Notice(seq=self.reserved, agent_id=agent, kind="assigned", ticket_id=f"T-{self.reserved}", at=T0)  # fmt: skip
        self.stored.append(notice)
        return notice

    async def notices_for(self, agent_id: str, after: int, limit: int) -> list[Notice]:
        found = sorted((n for n in self.stored if n.agent_id == agent_id and n.seq > after), key=lambda n: n.seq)  # fmt: skip
        return found[:limit]

    async def notices_since(self, after: int, limit: int) -> list[Notice]:
        return sorted((n for n in self.stored if n.seq > after), key=lambda n: n.seq)[:limit]

    async def last_seq(self) -> int:
        return self.reserved


async def take(stream: AsyncGenerator[Notice, None], n: int) -> list[int]:
    return [(await anext(stream)).seq for _ in range(n)]


async def started() -> None:
    """Lets the streams' tasks run up to their first wait (their queue is then listening)."""
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.fixture
def notices() -> Notices:
    return Notices()


async def test_live_notices_reach_only_their_agent_in_order(notices: Notices) -> None:
    hub = Hub(notices)  # type: ignore[arg-type]
    lan, minh = hub.follow("lan", None), hub.follow("minh", None)
    first = asyncio.ensure_future(take(lan, 2))
    other = asyncio.ensure_future(take(minh, 1))
    await started()
    notices.add("lan"), notices.add("minh"), notices.add("lan")
    assert await hub.tick() == 3
    assert await first == [1, 3]
    assert await other == [2]


async def test_a_reconnect_with_the_last_id_gets_what_came_in_between_once(
    notices: Notices,
) -> None:
    hub = Hub(notices)  # type: ignore[arg-type]
    live = hub.follow("lan", None)
    got = asyncio.ensure_future(take(live, 1))
    await started()
    notices.add("lan")
    await hub.tick()
    assert await got == [1]
    await live.aclose()  # the browser drops; two notices arrive meanwhile
    notices.add("lan"), notices.add("lan")
    await hub.tick()  # nobody listens now
    resumed = hub.follow("lan", 1)
    assert await take(resumed, 2) == [2, 3]  # stored ones, replayed
    later = asyncio.ensure_future(take(resumed, 1))
    await started()
    notices.add("lan")
    await hub.tick()
    assert await later == [4]  # then live, nothing twice


async def test_a_notice_written_late_is_waited_for_then_a_lost_place_is_passed(
    notices: Notices,
) -> None:
    now = [0.0]
    hub = Hub(notices, clock=lambda: now[0])  # type: ignore[arg-type]
    live = hub.follow("lan", None)
    first_two = asyncio.ensure_future(take(live, 2))
    await started()
    await hub.tick()  # starts from what is stored
    notices.add("lan", seq=2)  # place 1 reserved by another writer, not written yet
    assert await hub.tick() == 0  # waits for it
    notices.stored.append(Notice(seq=1, agent_id="lan", kind="offered", ticket_id="T-1", at=T0))
    assert await hub.tick() == 2
    assert await first_two == [1, 2]
    next_one = asyncio.ensure_future(take(live, 1))
    await started()
    notices.add("lan", seq=4)  # place 3 never comes (its writer crashed)
    assert await hub.tick() == 0
    now[0] = GAP_GRACE
    assert await hub.tick() == 1
    assert await next_one == [4]


async def test_nobody_listening_costs_no_query(notices: Notices) -> None:
    hub = Hub(notices)  # type: ignore[arg-type]
    notices.add("lan")
    assert await hub.tick() == 0
    assert hub.low is None
