"""The roster a replica chooses from, read from the store at most every `max_age` seconds
instead of once per decision (issue 18: reference data is not read per message).

Choosing from a slightly old roster is safe: a claim is still the store's conditional update
(online, a slot free), so a stale view can only cost a refused claim, after which the roster
is read again. What this replica claims and releases it sees at once (the store returns the
agent after each update); what other replicas do, within `max_age`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from s8_router.adapters.agent_store import SLOT_CHANGES, AgentStore, to_state
from s8_router.domain.model import AgentState
from s8_shared.contracts import AgentProfile
from s8_shared.mongo import Document


class AgentDirectory:
    def __init__(
        self,
        store: AgentStore,
        *,
        max_age: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.max_age, self.clock = store, max_age, clock
        self._agents: dict[str, tuple[int, AgentState]] = {}  # id -> (slot changes, state)
        self._read_at: float | None = None

    async def roster(self) -> list[AgentState]:
        if self._read_at is None or self.clock() - self._read_at >= self.max_age:
            read_at = self.clock()
            for doc in await self.store.all():
                self._keep(doc)
            self._read_at = read_at
        return [state for _, state in self._agents.values()]

    async def claim(self, agent_id: str, kind: str, now: datetime) -> bool:
        after = await self.store.claim(agent_id, kind, now)
        if after is None:
            self._read_at = None  # the roster said it could: read it again before choosing
            return False
        self._keep(after)
        return True

    async def release(self, agent_id: str, kind: str, now: datetime, *, finished: bool) -> None:
        after = await self.store.release(agent_id, kind, now, finished=finished)
        if after is not None:
            self._keep(after)

    async def save_profile(self, profile: AgentProfile) -> str | None:
        before = await self.store.save_profile(profile)
        self._read_at = None  # presence, skills or capacity changed
        return before

    async def state(self, agent_id: str) -> AgentState | None:
        return await self.store.state(agent_id)

    def _keep(self, doc: Document) -> None:
        """Keeps the newer of two views of an agent: updates that answer out of order (a
        claim and a release in flight together) never bring an older load back."""
        changes = int(doc.get(SLOT_CHANGES) or 0)
        known = self._agents.get(doc["_id"])
        if known is None or changes >= known[0]:
            self._agents[doc["_id"]] = (changes, to_state(doc))
