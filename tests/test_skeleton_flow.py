"""The walking skeleton on the real broker and store: inbound → intake → every service."""

import contextlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI

from s8_analytics.app import build as build_analytics
from s8_analytics.settings import AnalyticsSettings
from s8_intake.app import build as build_intake
from s8_intake.settings import IntakeSettings
from s8_router.app import build as build_router
from s8_router.settings import RouterSettings
from s8_shared import topics
from s8_shared.contracts import DEADLETTER_EVENTS, TICKET_EVENTS
from s8_shared.runtime import ServiceRuntime
from s8_shared.settings import ServiceSettings
from s8_sla_monitor.app import build as build_sla
from s8_sla_monitor.settings import SlaMonitorSettings
from s8_survey.app import build as build_survey
from s8_survey.settings import SurveySettings
from s8_testing.builders import make_inbound
from s8_testing.harness import TestStack, eventually

pytestmark = pytest.mark.integration

DOWNSTREAM: list[tuple[Callable[[Any], tuple[ServiceRuntime, FastAPI]], type[ServiceSettings]]] = [
    (build_router, RouterSettings),
    (build_sla, SlaMonitorSettings),
    (build_survey, SurveySettings),
    (build_analytics, AnalyticsSettings),
]


def inbound_bytes(**overrides: object) -> bytes:
    return json.dumps(make_inbound(**overrides), ensure_ascii=False).encode()


async def test_an_inbound_message_becomes_a_ticket_seen_by_every_service(stack: TestStack) -> None:
    intake_settings = stack.settings(IntakeSettings)
    downstream = [(build, stack.settings(cls)) for build, cls in DOWNSTREAM]
    async with contextlib.AsyncExitStack() as services:
        await services.enter_async_context(stack.running(build_intake, intake_settings))
        for build, settings in downstream:
            await services.enter_async_context(stack.running(build, settings))
        await stack.send(topics.INBOUND, inbound_bytes(), key=b"email:lan")
        events = await eventually(
            lambda: stack.read_all(topics.TICKETS, TICKET_EVENTS), what="ticket.created"
        )
        [created] = events
        assert created.type == "ticket.created"
        ticket_id = created.payload.ticket_id

        stored = await stack.db(intake_settings).tickets.find_one({"_id": ticket_id})
        assert stored is not None
        assert stored["channel"] == "email"

        for _, settings in downstream:
            db = stack.db(settings)

            async def processed(db: Any = db) -> bool:
                return (
                    await db.processed_events.find_one({"_id": str(created.event_id)}) is not None
                )

            await eventually(processed, what=f"{settings.service_name} to process the event")
        # What each service made of it, in its own database.
        router_db, sla_db, survey_db, analytics_db = (stack.db(s) for _, s in downstream)
        assert (await router_db.routing.find_one({"_id": ticket_id}))[
            "state"
        ] == "queued"  # no agent yet
        assert {c["target"] async for c in sla_db.clocks.find({"ticket_id": ticket_id})} >= {
            "first_response",
            "resolution",
        }
        assert await survey_db.surveys.count_documents({}) == 0  # nothing to survey before a solve
        assert (await analytics_db.tickets.find_one({"_id": ticket_id}))["status"] == "new"


async def test_the_same_inbound_message_twice_makes_one_ticket(stack: TestStack) -> None:
    settings = stack.settings(IntakeSettings)
    async with stack.running(build_intake, settings):
        await stack.send(topics.INBOUND, inbound_bytes(), key=b"email:lan")
        await stack.send(topics.INBOUND, inbound_bytes(), key=b"email:lan")
        await stack.send(
            topics.INBOUND, inbound_bytes(channel_message_id="<m2@example.vn>"), key=b"email:lan"
        )
        db = stack.db(settings)
        await eventually(lambda: _count(db.messages), what="both distinct messages stored")

        async def all_published() -> bool:
            return bool(await db.messages.count_documents({"state": "applied"}) == 2)

        await eventually(all_published, what="both tickets published")
    assert await db.tickets.count_documents({}) == 2
    events = await stack.read_all(topics.TICKETS, TICKET_EVENTS)
    assert len(events) == 2
    assert len({e.payload.ticket_id for e in events}) == 2


async def _count(collection: Any) -> bool:
    return bool(await collection.count_documents({}) == 2)


async def test_a_poison_message_is_dead_lettered_and_consumption_goes_on(stack: TestStack) -> None:
    settings = stack.settings(IntakeSettings)
    poison = b"\x89PNG\r\n not a message"
    invalid = json.dumps({"channel": "fax", "text": "xin chào"}).encode()
    async with stack.running(build_intake, settings):
        await stack.send(topics.INBOUND, poison, key=b"k")
        await stack.send(topics.INBOUND, invalid, key=b"k")
        await stack.send(topics.INBOUND, inbound_bytes(), key=b"k")
        created = await eventually(
            lambda: stack.read_all(topics.TICKETS, TICKET_EVENTS), what="the valid message's ticket"
        )
        dead = await eventually(lambda: _at_least(stack, 2), what="two dead letters")
    assert len(created) == 1
    by_bytes = {d.payload.original_bytes(): d.payload for d in dead}
    assert set(by_bytes) == {poison, invalid}
    assert "not valid JSON" in by_bytes[poison].reason
    assert "channel" in by_bytes[invalid].reason
    assert all(d.service == "s8-intake" and d.error_type == "invalid" for d in by_bytes.values())


async def _at_least(stack: TestStack, n: int) -> list[Any]:
    dead = await stack.read_all(topics.DEADLETTER, DEADLETTER_EVENTS)
    return dead if len(dead) >= n else []
