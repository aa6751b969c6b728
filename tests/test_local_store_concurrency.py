"""The local store under concurrent commands keeps MongoDB's promises: an update of a document
is atomic, and every read gets its reply while the document it reads is being updated."""

import asyncio
from typing import Any

import pytest
from pymongo import AsyncMongoClient, ReturnDocument

from s8_testing.local_store import Store

pytestmark = pytest.mark.integration

CONNECTIONS = 16


def concurrent_client(store: Store) -> AsyncMongoClient[dict[str, Any]]:
    # A short reply timeout: a reply the store never sends fails the test instead of hanging it.
    return AsyncMongoClient(
        store.uri, maxPoolSize=CONNECTIONS, minPoolSize=CONNECTIONS, socketTimeoutMS=10_000
    )


async def test_concurrent_increments_of_one_document_lose_none(store: Store) -> None:
    mongo = concurrent_client(store)
    try:
        counters = mongo["concurrency"]["counters"]
        await counters.insert_one({"_id": "c", "n": 0})
        await asyncio.gather(
            *(counters.update_one({"_id": "c"}, {"$inc": {"n": 1}}) for _ in range(400))
        )
        assert await counters.find_one({"_id": "c"}) == {"_id": "c", "n": 400}
    finally:
        await mongo.close()


async def test_only_one_of_many_guarded_updates_of_one_version_wins(store: Store) -> None:
    mongo = concurrent_client(store)
    try:
        records = mongo["concurrency"]["records"]
        for round_ in range(10):
            await records.insert_one({"_id": round_, "version": 0, "winners": 0})
            answers = await asyncio.gather(
                *(
                    records.find_one_and_update(
                        {"_id": round_, "version": 0},
                        {"$set": {"version": 1}, "$inc": {"winners": 1}},
                        return_document=ReturnDocument.AFTER,
                    )
                    for _ in range(CONNECTIONS * 2)
                )
            )
            assert sum(answer is not None for answer in answers) == 1
            assert await records.find_one({"_id": round_}) == {
                "_id": round_,
                "version": 1,
                "winners": 1,
            }
    finally:
        await mongo.close()


async def test_reads_of_a_document_that_changes_shape_meanwhile_all_get_their_reply(
    store: Store,
) -> None:
    mongo = concurrent_client(store)
    try:
        cards = mongo["concurrency"]["cards"]
        await cards.insert_one({"_id": "t", "fields": {f"k{i}": i for i in range(200)}})
        writing = True

        async def reshape() -> int:
            # Adds and removes keys, so the stored document's maps change while replies are encoded.
            i = 0
            while writing:
                await cards.update_one(
                    {"_id": "t"},
                    {"$set": {f"fields.n{i}": i}, "$unset": {f"fields.k{i % 200}": ""}},
                )
                i += 1
            return i

        async def read(times: int) -> int:
            seen = 0
            for _ in range(times):
                seen += (await cards.find_one({"_id": "t"})) is not None
            return seen

        writer = asyncio.create_task(reshape())
        try:
            reads = await asyncio.gather(*(read(100) for _ in range(CONNECTIONS - 2)))
        finally:
            writing = False
        updates = await writer
        assert reads == [100] * (CONNECTIONS - 2)
        assert updates > 0
        document = await cards.find_one({"_id": "t"})
        assert document is not None
        assert f"n{updates - 1}" in document["fields"]
    finally:
        await mongo.close()
