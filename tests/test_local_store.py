"""The local MongoDB-wire store (deploy/local/MongoLauncher.java) keeps what it acknowledges
and uses every index s8 declares. Each test starts its own store (the `store` fixture)."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from pymongo.errors import PyMongoError

from s8_analytics.app import build as build_analytics
from s8_analytics.settings import AnalyticsSettings
from s8_intake.app import build as build_intake
from s8_intake.settings import IntakeSettings
from s8_router.app import build as build_router
from s8_router.settings import RouterSettings
from s8_shared.mongo import IndexSpec, MongoStore
from s8_shared.runtime import ServiceRuntime
from s8_shared.settings import ServiceSettings
from s8_sla_monitor.app import build as build_sla
from s8_sla_monitor.settings import SlaMonitorSettings
from s8_survey.app import build as build_survey
from s8_survey.settings import SurveySettings
from s8_testing.local_store import Store, client

pytestmark = pytest.mark.integration

SERVICES: list[tuple[Callable[[Any], tuple[ServiceRuntime, Any]], type[ServiceSettings]]] = [
    (build_intake, IntakeSettings),
    (build_router, RouterSettings),
    (build_sla, SlaMonitorSettings),
    (build_survey, SurveySettings),
    (build_analytics, AnalyticsSettings),
]


async def insert_until_stopped(
    collection: Any, prefix: str, acknowledged: list[str], enough: asyncio.Event, target: int
) -> None:
    """Inserts one document at a time, noting each acknowledged id, until the store is gone."""
    i = 0
    while True:
        doc_id = f"{prefix}-{i}"
        try:
            await collection.insert_one({"_id": doc_id, "payload": "x" * 512})
        except PyMongoError:
            return  # the store is gone: this write was not acknowledged
        acknowledged.append(doc_id)
        if len(acknowledged) >= target:
            enough.set()
        i += 1


async def test_a_killed_store_keeps_every_write_it_acknowledged(store: Store) -> None:
    acknowledged: list[str] = []
    for round_ in range(3):
        async with client(store.uri) as mongo:
            enough = asyncio.Event()
            target = len(acknowledged) + 200
            writers = [
                asyncio.create_task(
                    insert_until_stopped(
                        mongo.s8_durability.writes, f"r{round_}-w{n}", acknowledged, enough, target
                    )
                )
                for n in range(4)
            ]
            await asyncio.wait_for(enough.wait(), timeout=60)
            store.kill()  # while the writers are still inserting
            await asyncio.gather(*writers)
        store.start()
        async with client(store.uri) as mongo:
            stored = {
                d["_id"] async for d in mongo.s8_durability.writes.find({}, projection={"_id": 1})
            }
        missing = [doc_id for doc_id in acknowledged if doc_id not in stored]
        assert not missing, f"round {round_}: {len(missing)} acknowledged writes lost"
    assert len(acknowledged) >= 600


def declared_indexes() -> list[IndexSpec]:
    specs: list[IndexSpec] = []
    for build, settings_cls in SERVICES:
        runtime, _ = build(settings_cls(mongo_uri="mongodb://127.0.0.1:1"))
        specs.extend(runtime.indexes)
    return specs


def filter_on(spec: IndexSpec) -> dict[str, Any]:
    return {field: f"v-{field}" for field, _ in spec.keys}


async def test_every_index_s8_declares_is_used_for_a_query_on_its_keys(store: Store) -> None:
    specs = declared_indexes()
    assert len(specs) >= 20
    async with client(store.uri) as mongo:
        by_collection: dict[str, list[IndexSpec]] = {}
        for spec in specs:
            by_collection.setdefault(spec.collection, []).append(spec)
        for collection, declared in by_collection.items():
            db_store = MongoStore(store.uri, f"s8_indexes_{collection}", app_name="test")
            try:
                await db_store.ensure_indexes(declared)
                await db_store.collection(collection).insert_one({"_id": "one", "n": 1})
            finally:
                await db_store.close()
            db = mongo[f"s8_indexes_{collection}"]
            for spec in declared:
                explained = await db.command(
                    {"explain": {"find": collection, "filter": filter_on(spec)}},
                )
                plan = explained["queryPlanner"]["winningPlan"]
                stage = plan.get("inputStage", plan)
                assert stage["stage"] == "IXSCAN", (spec, plan)
                chosen = stage["indexName"]
                # Another declared index on the same leading keys may serve the query as well.
                same_keys = {
                    s.index_name()
                    for s in declared
                    if list(s.keys)[: len(spec.keys)] == list(spec.keys) or s == spec
                }
                assert chosen in same_keys, (spec, chosen)


async def test_an_indexed_query_reads_only_the_matching_documents(store: Store) -> None:
    """The plan is not just reported: updates and deletes move index entries, and a range on
    the second key of a compound index finds exactly the documents a full scan finds."""
    async with client(store.uri) as mongo:
        col = mongo.s8_plan.clocks
        await col.create_index([("state", 1), ("next_fire_at", 1)])
        await col.create_index([("ticket_id", 1)])
        await col.insert_many(
            [
                {"_id": f"c{i}", "ticket_id": f"T{i % 50}", "state": "running", "next_fire_at": i}
                for i in range(1000)
            ]
        )
        await col.update_many({"ticket_id": "T7"}, {"$set": {"state": "stopped"}})
        await col.delete_many({"ticket_id": "T8"})
        due = {"state": "running", "next_fire_at": {"$lte": 300}}
        found = {d["_id"] async for d in col.find(due)}
        expected = {f"c{i}" for i in range(301) if i % 50 not in (7, 8)}
        assert found == expected
        assert await col.count_documents({"ticket_id": "T7", "state": "stopped"}) == 20
        assert await col.count_documents({"ticket_id": "T8"}) == 0
        assert await col.count_documents({"ticket_id": {"$in": ["T1", "T2"]}}) == 40
        # Comparisons keep to their bound's type, as in MongoDB: stopped clocks (no fire time)
        # are not even read by the due-clock query.
        await col.create_index([("next_fire_at", 1)])
        await col.insert_many(
            [{"_id": f"s{i}", "state": "stopped", "next_fire_at": None} for i in range(2000)]
        )
        explained = await mongo.s8_plan.command(
            {"explain": {"find": "clocks", "filter": {"next_fire_at": {"$lte": 99}}}}
        )
        # 0..99 less the two deleted with T8 (8 and 58)
        assert explained["executionStats"]["totalDocsExamined"] == 98
        assert await col.count_documents({"next_fire_at": {"$lte": 99}}) == 98
        assert await col.count_documents({"next_fire_at": {"$gt": 997}}) == 2
        # An index on an array field holds each element (multikey), as MongoDB's does.
        await col.create_index([("skills", 1)])
        await col.update_many({"ticket_id": "T1"}, {"$set": {"skills": ["billing", "vip"]}})
        await col.update_many({"ticket_id": "T2"}, {"$set": {"skills": ["billing"]}})
        assert await col.count_documents({"skills": "billing"}) == 40
        assert await col.count_documents({"skills": "vip", "state": "running"}) == 20
        await col.update_many({"ticket_id": "T1"}, {"$pull": {"skills": "billing"}})
        assert await col.count_documents({"skills": "billing"}) == 20


async def test_listing_databases_answers_from_the_open_ones_without_reopening_them(
    store: Store,
) -> None:
    # The library's own listDatabases opened a second copy of every database, rebuilding all
    # its indexes from whole collections each time, and that copy's reads raced the writes.
    async with client(store.uri) as mongo:
        await mongo.s8_a.docs.create_index("k")
        await mongo.s8_a.docs.insert_many([{"_id": i, "k": i % 7} for i in range(500)])
        await mongo.s8_b.other.insert_one({"_id": 1})
        opened = store.log.read_text().count("adding unique _id index for collection docs")
        for _ in range(3):
            names = await mongo.list_database_names()
            assert {"s8_a", "s8_b"} <= set(names)
            listed = await mongo.admin.command("listDatabases")
            assert {"name": "s8_a", "empty": False} in listed["databases"]
        assert store.log.read_text().count("adding unique _id index for collection docs") == opened
        assert await mongo.s8_a.docs.count_documents({"k": 3}) == len([i for i in range(500) if i % 7 == 3])  # fmt: skip


async def test_an_aggregation_that_starts_with_match_reads_through_the_index(store: Store) -> None:
    """Intake looks customers up with a $match on identity ids joined ($lookup) with their
    customers; as shipped, the store read every identity for it."""
    async with client(store.uri) as mongo:
        identities, customers = mongo.s8_aggregate.identities, mongo.s8_aggregate.customers
        await customers.create_index([("merged_into", 1)])
        await identities.insert_many([{"_id": f"k{i}", "customer_id": f"c{i // 2}"} for i in range(2000)])  # fmt: skip
        await customers.insert_many([{"_id": f"c{i}", "merged_into": f"c{i - 1}" if i % 7 == 0 else None} for i in range(1000)])  # fmt: skip
        pipeline: list[dict[str, Any]] = [
            {"$match": {"_id": {"$in": ["k14", "k15", "k1999", "missing"]}}},
            {
                "$lookup": {
                    "from": "customers",
                    "localField": "customer_id",
                    "foreignField": "_id",
                    "as": "customer",
                }
            },
            {
                "$lookup": {
                    "from": "customers",
                    "localField": "customer_id",
                    "foreignField": "merged_into",
                    "as": "merged",
                }
            },
        ]
        found = {
            d["_id"]: ([c["_id"] for c in d["customer"]], [m["_id"] for m in d["merged"]])
            async for d in await identities.aggregate(pipeline)
        }
        assert found == {"k14": (["c7"], []), "k15": (["c7"], []), "k1999": (["c999"], [])}
        merged = [d async for d in await identities.aggregate([{"$match": {"_id": "k12"}}, pipeline[2]])]  # fmt: skip
        assert [(d["_id"], [m["_id"] for m in d["merged"]]) for d in merged] == [("k12", ["c7"])]
        explained = await mongo.s8_aggregate.command(
            {"explain": {"aggregate": "identities", "pipeline": pipeline, "cursor": {}}}
        )
        assert explained["queryPlanner"]["winningPlan"]["inputStage"]["stage"] == "IXSCAN"
        assert explained["executionStats"]["totalDocsExamined"] == 3
        # PyMongo counts with an aggregation ($match, then $group): indexed as well.
        assert await customers.count_documents({"merged_into": "c6"}) == 1
        explained = await mongo.s8_aggregate.command(
            {
                "explain": {
                    "aggregate": "customers",
                    "pipeline": [
                        {"$match": {"merged_into": "c6"}},
                        {"$group": {"_id": 1, "n": {"$sum": 1}}},
                    ],
                    "cursor": {},
                }
            }
        )
        assert explained["executionStats"]["totalDocsExamined"] == 1
