"""What agents' profiles, presence and offers do to routing: an agent coming online drains
the queue into their slots; one going offline (or away, if the policy says so) hands back
the tickets they have not answered; an offer declined or not accepted in time moves on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from s8_router.assigner import Assigner
from s8_router.domain.policy import RoutingPolicy
from s8_router.domain.record import (
    ASSIGNED,
    HELD_STATES,
    NEW,
    OFFERED,
    RoutingRecord,
    RoutingState,
)
from s8_router.ports import AgentRoster, RoutingRecords
from s8_shared.contracts import AgentProfile, Presence

ACCEPTANCE_TIMEOUT = "acceptance_timeout"
DECLINED = "declined"
AGENT_OFFLINE = "agent_offline"
NEVER_AGAIN = (ACCEPTANCE_TIMEOUT, DECLINED)  # the ticket is not offered to that agent again


@dataclass(frozen=True, kw_only=True)
class AgentDesk:
    agents: AgentRoster
    routing: RoutingRecords
    assigner: Assigner
    policy: Callable[[], RoutingPolicy]
    clock: Callable[[], datetime]

    async def on_agent_profile(self, profile: AgentProfile) -> None:
        presence_before = await self.agents.save_profile(profile)
        if profile.presence == Presence.ONLINE:
            await self.assigner.drain()
            return
        was_online = presence_before == Presence.ONLINE
        if was_online and (profile.presence == Presence.OFFLINE or self.policy().release_on_away):
            await self.release_unanswered(profile.agent_id)

    async def release_unanswered(self, agent_id: str) -> None:
        for record in await self.routing.held_by(agent_id, unanswered_only=True):
            await self._take_back(record, agent_id, AGENT_OFFLINE)

    async def expire_offers(self) -> None:
        for record in await self.routing.expired_offers(self.clock()):
            if record.agent_id is not None:  # an offer always names its agent
                await self._take_back(record, record.agent_id, ACCEPTANCE_TIMEOUT)

    async def accept(self, ticket_id: str, agent_id: str) -> bool:
        """The agent accepts the ticket offered to them; False if it is not (or no longer)."""
        accepted = await self.routing.transition(
            ticket_id, [OFFERED], ASSIGNED, {"offer_expires_at": None}, agent_id=agent_id
        )
        return accepted is not None

    async def decline(self, ticket_id: str, agent_id: str) -> bool:
        """The agent declines the ticket offered to them: it moves on at once, never to be
        offered to them again; False if it is not (or no longer) offered to them."""
        record = await self.routing.get(ticket_id)
        if record is None or record.state is not OFFERED or record.agent_id != agent_id:
            return False
        return await self._take_back(record, agent_id, DECLINED, from_states=(OFFERED,))

    async def _take_back(
        self,
        record: RoutingRecord,
        agent_id: str,
        reason: str,
        from_states: tuple[RoutingState, ...] = HELD_STATES,
    ) -> bool:
        now = self.clock()
        moved = await self.routing.transition(
            record.ticket_id,
            from_states,
            NEW,
            {"agent_id": None, "previous_agent_id": agent_id},
            agent_id=agent_id,
        )
        if moved is None:
            return False
        await self.agents.release(agent_id, moved.routed.channel_kind, now, finished=False)
        if reason in NEVER_AGAIN:
            await self.routing.exclude(record.ticket_id, agent_id)
        await self.assigner.announce_release(moved, agent_id, reason)
        refreshed = await self.routing.get(record.ticket_id)
        if refreshed:
            await self.assigner.try_assign(refreshed, previous_agent=agent_id)
        return True
