"""The router's roster, read at most once per `max_age` on the real store: what this replica
claims and releases shows at once, what another replica does after `max_age` or after a
claim the old view allowed is refused."""

import pytest

from s8_router.adapters.agent_directory import AgentDirectory
from s8_router.adapters.agent_store import AgentStore
from s8_router.domain.model import AgentState
from s8_shared.contracts import AgentProfile, Presence
from s8_testing.builders import T0
from s8_testing.harness import TestStack

pytestmark = pytest.mark.integration

LAN = AgentProfile(agent_id="lan", name="Lan", capacity={"chat": 2}, presence=Presence.ONLINE)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def chat_load(roster: list[AgentState]) -> dict[str, int]:
    return {a.agent_id: a.active.get("chat", 0) for a in roster}


async def test_own_claims_show_at_once_and_other_replicas_after_max_age(stack: TestStack) -> None:
    async with stack.store("directory") as store:
        agents, clock = AgentStore(store), Clock()
        await agents.save_profile(LAN)
        mine = AgentDirectory(agents, max_age=5.0, clock=clock)
        assert chat_load(await mine.roster()) == {"lan": 0}

        assert await mine.claim("lan", "chat", T0)
        assert chat_load(await mine.roster()) == {"lan": 1}  # no read: the claim's answer

        assert await agents.claim("lan", "chat", T0)  # another replica takes the last slot
        assert chat_load(await mine.roster()) == {"lan": 1}  # not read again yet
        clock.now = 5.0
        assert chat_load(await mine.roster()) == {"lan": 2}

        await mine.release("lan", "chat", T0, finished=True)
        assert chat_load(await mine.roster()) == {"lan": 1}


async def test_a_claim_the_old_roster_allowed_is_refused_and_the_roster_read_again(
    stack: TestStack,
) -> None:
    async with stack.store("directory-stale") as store:
        agents, clock = AgentStore(store), Clock()
        await agents.save_profile(LAN)
        mine = AgentDirectory(agents, max_age=60.0, clock=clock)
        assert chat_load(await mine.roster()) == {"lan": 0}
        other = AgentDirectory(agents, max_age=60.0, clock=clock)
        assert await other.claim("lan", "chat", T0)
        assert await other.claim("lan", "chat", T0)  # full, as far as the store knows

        assert chat_load(await mine.roster()) == {"lan": 0}  # the old view says free
        assert not await mine.claim("lan", "chat", T0)  # the store says no
        assert chat_load(await mine.roster()) == {"lan": 2}  # read again, within max_age


async def test_a_profile_saved_through_the_directory_is_read_again(stack: TestStack) -> None:
    async with stack.store("directory-profile") as store:
        agents, clock = AgentStore(store), Clock()
        await agents.save_profile(LAN)
        mine = AgentDirectory(agents, max_age=60.0, clock=clock)
        assert [a.presence for a in await mine.roster()] == ["online"]
        await mine.save_profile(LAN.model_copy(update={"presence": Presence.OFFLINE}))
        assert [a.presence for a in await mine.roster()] == ["offline"]
