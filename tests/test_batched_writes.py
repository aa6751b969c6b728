"""Writes queued during a batch, sent as one bulk write on the real store: the latest event
by its time wins whatever the order, and a late one's colliding upsert is no error."""

import asyncio
from datetime import timedelta

import pytest
from pymongo import UpdateOne

from s8_shared.batched_writes import BatchedWrites
from s8_testing.builders import T0
from s8_testing.harness import TestStack

pytestmark = pytest.mark.integration


def hold(ticket: str, agent: str | None, minutes: int) -> UpdateOne:
    at = T0 + timedelta(minutes=minutes)
    query = {"_id": ticket, "at": {"$lte": at}}
    return UpdateOne(query, {"$set": {"agent_id": agent, "at": at}}, upsert=True)


async def test_one_bulk_write_keeps_the_latest_holder_and_each_task_flushes_its_own(
    stack: TestStack,
) -> None:
    async with stack.store("batched") as store:
        writes = BatchedWrites(store.collection("holders"))

        async def batch(*ops: UpdateOne) -> None:
            for op in ops:
                writes.add(op)
            await asyncio.sleep(0)  # another task queues meanwhile
            await writes.flush()

        await asyncio.gather(
            batch(hold("T-1", None, 0), hold("T-1", "lan", 5)),  # queued, then assigned
            batch(hold("T-2", "minh", 9), hold("T-2", None, 1)),  # the late one last
        )
        await batch(hold("T-1", "minh", 2))  # late, in a batch of its own
        docs = {d["_id"]: d["agent_id"] async for d in store.collection("holders").find({})}
        assert docs == {"T-1": "lan", "T-2": "minh"}
        await writes.flush()  # nothing queued: nothing sent, nothing raised


async def test_a_write_put_outside_a_batch_is_sent_at_once_and_inside_one_at_its_flush(
    stack: TestStack,
) -> None:
    async with stack.store("batched-put") as store:
        holders = store.collection("holders")
        writes = BatchedWrites(holders)
        await writes.put(hold("T-1", "lan", 1))  # an API call or a timer: no batch begun
        assert await holders.find_one({"_id": "T-1"}, {"_id": 0, "agent_id": 1}) == {
            "agent_id": "lan"
        }

        writes.begin()
        await writes.put(hold("T-2", "minh", 1))
        assert await holders.find_one({"_id": "T-2"}) is None  # waits for the batch's end
        await writes.flush()
        assert await holders.find_one({"_id": "T-2"}, {"_id": 0, "agent_id": 1}) == {
            "agent_id": "minh"
        }
