"""The router's cached roster keeps the newest view of each agent, whatever order the
store's answers to claims and releases arrive in."""

from datetime import UTC, datetime
from typing import Any

from s8_router.adapters.agent_directory import AgentDirectory
from s8_shared.contracts import AgentProfile

NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)
PROFILE = AgentProfile(agent_id="lan", name="Lan", capacity={"chat": 3}).model_dump(mode="json")


def doc(active: int, changes: int) -> dict[str, Any]:
    return {
        "_id": "lan",
        "profile": PROFILE,
        "active": {"chat": active},
        "slot_changes": changes,
    }


class AnswersOutOfOrder:
    """A store whose answers come back in the order given, not the order of the updates."""

    def __init__(self, *answers: dict[str, Any]) -> None:
        self.answers = list(answers)
        self.reads = 0

    async def all(self) -> list[dict[str, Any]]:
        self.reads += 1
        return [doc(0, 0)]

    async def claim(self, *_: object) -> dict[str, Any]:
        return self.answers.pop(0)


async def test_an_older_answer_arriving_last_does_not_bring_an_older_load_back() -> None:
    store = AnswersOutOfOrder(doc(2, 2), doc(1, 1))  # the second claim answered first
    directory = AgentDirectory(store, max_age=60.0, clock=lambda: 0.0)  # type: ignore[arg-type]
    await directory.roster()
    assert await directory.claim("lan", "chat", NOW)
    assert await directory.claim("lan", "chat", NOW)
    assert [a.active for a in await directory.roster()] == [{"chat": 2}]
    assert store.reads == 1


async def test_the_roster_is_read_once_per_max_age() -> None:
    store = AnswersOutOfOrder()
    now = [0.0]
    directory = AgentDirectory(store, max_age=1.0, clock=lambda: now[0])  # type: ignore[arg-type]
    for _ in range(5):
        await directory.roster()
    now[0] = 1.0
    await directory.roster()
    assert store.reads == 2
