"""Each agent's live stream (Server-Sent Events): the notices the desk stores, pushed to the
agent's open connections, resumable with `Last-Event-ID` (the last `seq` received).

Why SSE and not WebSocket: the stream only flows to the browser (writes are plain HTTP
calls), SSE reconnects by itself and sends `Last-Event-ID` on reconnecting, and it passes
every proxy as an ordinary HTTP response.

Every replica reads new notices from the store (one query per tick, whoever consumed the
event that caused them) and hands them to its own connections. Places in the stream are
reserved before the notices are written, so a notice may appear after a higher one: a gap
is waited for up to `GAP_GRACE` before it is passed (its writer is gone).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncGenerator, Callable

from s8_desk.ports import DeskReads
from s8_shared.contracts.desk import Notice

log = logging.getLogger("s8.desk.stream")
BATCH = 500
REPLAY_PAGE = 200
QUEUE_LIMIT = 1_000  # a connection this far behind is closed; the browser resumes from its id
GAP_GRACE = 5.0


class Hub:
    def __init__(
        self,
        store: DeskReads,
        *,
        handed: Callable[[Notice], None] = lambda notice: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.handed, self.clock = store, handed, clock
        self.low: int | None = None  # every notice up to this one was handed out, in order
        self._gap_since: float | None = None
        self._queues: dict[str, set[asyncio.Queue[Notice | None]]] = defaultdict(set)

    def connections(self) -> int:
        return sum(len(q) for q in self._queues.values())

    async def tick(self) -> int:
        """Hands out, in order, the notices stored since the last tick; how many."""
        if not self._queues:  # nobody listens here: no query (a stream replays on opening)
            self.low = None
            return 0
        if self.low is None:
            self.low = await self.store.last_seq()
        waiting = {n.seq: n for n in await self.store.notices_since(self.low, BATCH)}
        handed = 0
        while waiting:
            while (notice := waiting.pop(self.low + 1, None)) is not None:
                self._hand_out(notice)
                self.low, handed = notice.seq, handed + 1
            if not waiting:
                self._gap_since = None
                break
            now = self.clock()  # a place before the waiting ones is not written (yet)
            if self._gap_since is None:
                self._gap_since = now
                break
            if now - self._gap_since < GAP_GRACE:
                break
            self.low, self._gap_since = min(waiting) - 1, None  # its writer is gone
        return handed

    def _hand_out(self, notice: Notice) -> None:
        for queue in list(self._queues.get(notice.agent_id, ())):
            if queue.full():  # too slow: closed; it resumes from what it received
                queue.get_nowait()
                queue.put_nowait(None)
                self._queues[notice.agent_id].discard(queue)
            else:
                queue.put_nowait(notice)
                self.handed(notice)

    async def follow(self, agent_id: str, after: int | None) -> AsyncGenerator[Notice, None]:
        """The agent's notices after `after` (stored ones first), then live ones, each once
        and in order; None for `after`: live ones only."""
        queue: asyncio.Queue[Notice | None] = asyncio.Queue(QUEUE_LIMIT)
        self._queues[agent_id].add(queue)  # before the replay: nothing falls in between
        try:
            last = after
            if self.low is None:  # the first stream here: live from what is stored now
                self.low = await self.store.last_seq()
            handed = self.low
            while last is not None and last < handed:  # what the hub handed out before
                page = [n for n in await self.store.notices_for(agent_id, last, REPLAY_PAGE) if n.seq <= handed]  # fmt: skip
                for stored in page:
                    yield stored
                    last = stored.seq
                if len(page) < REPLAY_PAGE:
                    break
            while (notice := await queue.get()) is not None:
                if last is None or notice.seq > last:
                    yield notice
                    last = notice.seq
        finally:
            self._queues[agent_id].discard(queue)
            if not self._queues[agent_id]:
                del self._queues[agent_id]
