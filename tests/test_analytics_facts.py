"""Analytics' facts on the real store: one command per event in the usual order, and still
order-tolerant when assignments arrive late or come again."""

from datetime import timedelta

import pytest

from s8_analytics.adapters.facts import FactStore
from s8_testing.builders import T0
from s8_testing.harness import TestStack

pytestmark = pytest.mark.integration


async def test_the_latest_holder_wins_and_every_move_counts_whatever_the_order(
    stack: TestStack,
) -> None:
    async with stack.store("facts") as store:
        facts = FactStore(store)
        later = T0 + timedelta(minutes=10)
        await facts.assignment("T-1", "lan", later, moved=True)  # the transfer came first
        await facts.assignment("T-1", "minh", T0, moved=False)  # the first assignment, late
        await facts.assignment("T-1", None, T0 + timedelta(minutes=1), moved=False)  # queued
        doc = await facts.agents.find_one({"_id": "T-1"})
        assert doc is not None
        assert (doc["agent_id"], doc["agent_at"]) == ("lan", later)
        assert doc["first_assigned_at"] == T0
        assert doc["transfers"] == 1
        await facts.assignment("T-2", None, T0, moved=False)  # queued before any holder
        await facts.assignment("T-2", "minh", later, moved=False)
        doc = await facts.agents.find_one({"_id": "T-2"})
        assert doc is not None
        assert (doc["agent_id"], doc["first_assigned_at"], doc["transfers"]) == ("minh", later, 0)


async def test_a_flag_is_raised_once_per_ticket(stack: TestStack) -> None:
    async with stack.store("facts") as store:
        facts = FactStore(store)
        await facts.assignment("T-1", "minh", T0, moved=False)
        assert await facts.once("T-1", "counted")  # an existing document
        assert not await facts.once("T-1", "counted")
        assert await facts.once("T-9", "counted")  # no document yet
        assert not await facts.once("T-9", "counted")
        doc = await facts.agents.find_one({"_id": "T-1"})
        assert doc is not None
        assert (doc["agent_id"], doc["transfers"], doc["counted"]) == ("minh", 0, True)
        # Another process (a replica, or this one restarted) asks the store and agrees.
        assert not await FactStore(store).once("T-1", "counted")
        assert await FactStore(store).once("T-1", "first_reply_seen")
