"""The SLA monitor on the real broker and store: on-time warnings and breaches, exactly
once across a crash and across replicas, and escalation through the router."""

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import uuid
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from s8_intake.app import build as build_intake
from s8_intake.settings import IntakeSettings
from s8_router.app import build as build_router
from s8_router.settings import RouterSettings
from s8_shared import topics
from s8_shared.contracts import ASSIGNMENT_EVENTS, SLA_EVENTS, AgentProfile, Event, utcnow
from s8_shared.contracts.sla import SlaClockStarted, SlaPayload
from s8_shared.outbox import item_for
from s8_sla_monitor.app import build as build_sla
from s8_sla_monitor.settings import SlaMonitorSettings
from s8_testing.builders import make_inbound, make_ticket_created
from s8_testing.harness import TestStack, eventually, holds

pytestmark = pytest.mark.integration

SHORT_POLICY = """
version: 1
policies:
  - policy_id: short
    targets:
      first_response: {seconds: %(fr)d, calendar: "24x7", warn_at: 0.5}
      resolution: {seconds: 3600, calendar: "24x7", pause_on: [pending, on_hold]}
"""


def short_policy(tmp_path: Path, first_response_seconds: int) -> Path:
    path = tmp_path / "policies.yaml"
    path.write_text(SHORT_POLICY % {"fr": first_response_seconds}, encoding="utf-8")
    return path


async def sla_events(stack: TestStack) -> list[Event[Any]]:
    return await stack.read_all(topics.SLA, SLA_EVENTS)


async def send_created(stack: TestStack, ticket_id: str) -> None:
    event = make_ticket_created(ticket_id=ticket_id, customer_id="C-1").model_copy(
        update={"occurred_at": utcnow()}
    )
    await stack.send(topics.TICKETS, event.to_bytes(), key=ticket_id.encode())


def seconds_until(when: datetime) -> float:
    return max(0.0, (when - utcnow()).total_seconds())


async def until(when: datetime) -> None:
    """Waits until the wall clock has passed `when` (the services run on the real clock)."""
    await asyncio.sleep(seconds_until(when) + 0.1)


def of_type(events: list[Event[Any]], type_name: str) -> list[Event[Any]]:
    return [e for e in events if e.type == type_name]


def fired(events: list[Event[Any]], type_name: str) -> int:
    """How many distinct events of the type (a re-published record counts once)."""
    return len({e.event_id for e in of_type(events, type_name)})


async def test_a_short_target_warns_then_breaches_on_time(stack: TestStack, tmp_path: Path) -> None:
    settings = stack.settings(SlaMonitorSettings, policies_path=short_policy(tmp_path, 4))
    async with stack.running(build_sla, settings):
        await send_created(stack, "T-sla")

        async def breached() -> list[Event[Any]]:
            events = await sla_events(stack)
            return events if of_type(events, "sla.breached") else []

        events = await eventually(breached, within=20, what="the breach")
    [warning] = of_type(events, "sla.warning")
    [breach] = of_type(events, "sla.breached")
    fr_started = next(
        e for e in of_type(events, "sla.clock_started") if e.payload.target == "first_response"
    )
    start = fr_started.occurred_at
    assert abs((warning.occurred_at - start).total_seconds() - 2.0) < 1.0
    assert abs((breach.occurred_at - start).total_seconds() - 4.0) < 1.0
    assert breach.payload.due_at is not None
    assert abs((breach.occurred_at - breach.payload.due_at).total_seconds()) < 1.0


def start_sla(env: dict[str, str]) -> subprocess.Popen[bytes]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return subprocess.Popen(
        [sys.executable, "-m", "s8_sla_monitor"],
        env={**os.environ, **env, "S8_HTTP_PORT": str(port), "S8_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_a_clock_that_fell_due_while_the_service_was_down_fires_once_after_restart(
    stack: TestStack, tmp_path: Path
) -> None:
    settings = stack.settings(SlaMonitorSettings, policies_path=short_policy(tmp_path, 3))
    env = stack.env(settings)
    process = start_sla(env)
    try:
        await send_created(stack, "T-down")

        async def started() -> list[Event[Any]]:
            return [
                e
                for e in of_type(await sla_events(stack), "sla.clock_started")
                if e.payload.target == "first_response"
            ]

        [clock] = await eventually(started, within=30, what="the clock to start")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert not of_type(await sla_events(stack), "sla.breached")
    assert clock.payload.due_at is not None
    await until(clock.payload.due_at)  # the deadline passes while nothing runs
    process = start_sla(env)
    try:
        # Fired once: one warning and one breach (event ids). After a kill -9 the clocks'
        # outboxes may publish a record twice with the same id (at-least-once; every consumer
        # applies an event id once), never a second firing with a new id.
        async def fired_late() -> bool:
            events = await sla_events(stack)
            return (fired(events, "sla.warning"), fired(events, "sla.breached")) == (1, 1)

        await eventually(fired_late, within=30, what="the late warning and breach")
        await holds(fired_late, during=2, what="one warning and one breach, never repeated")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    events = await sla_events(stack)
    assert fired(events, "sla.breached") == 1
    assert fired(events, "sla.warning") == 1


async def test_two_replicas_fire_each_breach_exactly_once(stack: TestStack, tmp_path: Path) -> None:
    settings = stack.settings(SlaMonitorSettings, policies_path=short_policy(tmp_path, 2))
    async with contextlib.AsyncExitStack() as replicas:
        for _ in range(2):
            await replicas.enter_async_context(stack.running(build_sla, settings))
        for i in range(10):
            await send_created(stack, f"T-rep-{i}")

        async def all_fired() -> bool:
            events = await sla_events(stack)
            return len(of_type(events, "sla.breached")) >= 10 and (
                len(of_type(events, "sla.warning")) >= 10
            )

        async def at_most_once() -> bool:
            events = await sla_events(stack)
            return len(of_type(events, "sla.breached")) <= 10 and (
                len(of_type(events, "sla.warning")) <= 10
            )

        await eventually(all_fired, within=30, what="ten warnings and ten breaches")
        await holds(at_most_once, during=1.5, what="each clock fired at most once")
    events = await sla_events(stack)
    breaches = of_type(events, "sla.breached")
    assert len(breaches) == 10
    assert len({e.payload.ticket_id for e in breaches}) == 10
    assert len(of_type(events, "sla.warning")) == 10


async def test_an_agent_reply_meets_the_first_response_and_no_breach_follows(
    stack: TestStack, tmp_path: Path
) -> None:
    intake_settings = stack.settings(IntakeSettings)
    sla_settings = stack.settings(SlaMonitorSettings, policies_path=short_policy(tmp_path, 3))
    async with stack.running(build_sla, sla_settings), contextlib.AsyncExitStack() as ctx:
        runtime, app = build_intake(intake_settings)
        await runtime.start()
        ctx.push_async_callback(runtime.stop)
        http = await ctx.enter_async_context(stack.client(app, "http://intake"))
        ticket_id = (await http.post("/v1/inbound/email", json=make_inbound())).json()["ticket_id"]
        reply = await http.post(
            f"/v1/tickets/{ticket_id}/actions",
            json={
                "kind": "reply",
                "action_id": "r1",
                "actor_id": "agent-1",
                "text": "Em đang kiểm tra ạ.",
            },
        )
        assert reply.status_code == 200

        async def met() -> bool:
            return any(
                e.type == "sla.met" and e.payload.target == "first_response"
                for e in await sla_events(stack)
            )

        await eventually(met, within=20, what="first response met")
        [clock] = [
            e
            for e in of_type(await sla_events(stack), "sla.clock_started")
            if e.payload.target == "first_response"
        ]
        assert clock.payload.due_at is not None

        async def no_breach() -> bool:
            return not of_type(await sla_events(stack), "sla.breached")

        # Past the deadline the met clock was due at, and a scheduler pass later: no breach.
        await holds(no_breach, during=seconds_until(clock.payload.due_at) + 1.5, what="no breach")


async def test_an_sla_warning_escalates_the_ticket_end_to_end(
    stack: TestStack, tmp_path: Path
) -> None:
    """intake → router assigns an L1 agent → the SLA monitor warns → the router moves it to L2."""
    async with contextlib.AsyncExitStack() as ctx:
        router_settings = stack.settings(RouterSettings)
        for build, settings in (
            (build_router, router_settings),
            (
                build_sla,
                stack.settings(SlaMonitorSettings, policies_path=short_policy(tmp_path, 4)),
            ),
        ):
            await ctx.enter_async_context(stack.running(build, settings))
        runtime, app = build_intake(stack.settings(IntakeSettings))
        await runtime.start()
        ctx.push_async_callback(runtime.stop)
        for agent_id, tier in (("l1-an", "L1"), ("l2-binh", "L2")):
            profile = AgentProfile(
                agent_id=agent_id,
                name=agent_id,
                tier=tier,
                presence="online",
                skills=dict.fromkeys(
                    ("billing", "shipping", "technical", "warranty", "sales", "account"), 4
                ),
                languages=["vi", "en"],
            )
            await stack.send(
                topics.AGENTS, profile.model_dump_json().encode(), key=agent_id.encode()
            )
        await stack.caught_up(router_settings, topics.AGENTS)
        http = await ctx.enter_async_context(stack.client(app, "http://intake"))
        message = make_inbound(
            text="Đơn hàng A1023 giao nhầm màu áo, mình cần shop kiểm tra lại.",
            subject="Giao nhầm hàng",
        )
        ticket_id = (await http.post("/v1/inbound/email", json=message)).json()["ticket_id"]

        async def escalated() -> list[Event[Any]]:
            events = await stack.read_all(topics.ASSIGNMENTS, ASSIGNMENT_EVENTS)
            return [
                e
                for e in events
                if e.type == "ticket.escalated" and e.payload.ticket_id == ticket_id
            ]

        events = await eventually(escalated, within=30, what="the escalation after the SLA warning")
        event = events[0]
    assert event.payload.reason == "sla_warning"
    assert event.payload.tier == "L2"
    assert event.payload.agent_id == "l2-binh"


async def test_policies_and_calendars_are_edited_over_http_and_validated(stack: TestStack) -> None:
    runtime, app = build_sla(stack.settings(SlaMonitorSettings))
    await runtime.start()
    try:
        async with stack.client(app, "http://sla") as http:
            shipped = (await http.get("/v1/policies")).json()
            assert shipped["policies"][-1].get("match") in (None, {})
            unknown_calendar = {
                "version": 1,
                "policies": [
                    {
                        "policy_id": "x",
                        "targets": {"first_response": {"seconds": 60, "calendar": "mars-office"}},
                    }
                ],
            }
            refused = await http.put("/v1/policies", json=unknown_calendar)
            assert refused.status_code == 422
            assert "mars-office" in refused.json()["detail"]
            tight = {
                "version": 1,
                "policies": [
                    {
                        "policy_id": "tight",
                        "targets": {"first_response": {"seconds": 90, "calendar": "24x7"}},
                    }
                ],
            }
            assert (await http.put("/v1/policies", json=tight)).status_code == 200

            calendars = (await http.get("/v1/calendars")).json()
            assert "vn-office" in calendars["calendars"]
            broken = {
                **calendars,
                "calendars": {
                    **calendars["calendars"],
                    "24x7": {"tz": "Mars/Olympus", "always_open": True},
                },
            }
            assert (await http.put("/v1/calendars", json=broken)).status_code == 422

            await send_created(stack, "T-api")

            async def clocks() -> list[dict[str, Any]]:
                response = await http.get("/v1/clocks/T-api")
                return response.json() if response.status_code == 200 else []

            [clock] = await eventually(clocks, what="the clock of the new ticket")
            assert (clock["policy_id"], clock["target"], clock["target_seconds"]) == (
                "tight",
                "first_response",
                90,
            )
            assert clock["next_fire_at"] is not None
            assert (await http.get("/v1/clocks/T-none")).status_code == 404
    finally:
        await runtime.stop()


async def test_a_policy_change_recomputes_open_clocks_keeping_elapsed_time(
    stack: TestStack, tmp_path: Path
) -> None:
    runtime, app = build_sla(
        stack.settings(SlaMonitorSettings, policies_path=short_policy(tmp_path, 600))
    )
    await runtime.start()
    try:
        async with stack.client(app, "http://sla") as http:
            await send_created(stack, "T-pol")

            async def started() -> bool:
                response = await http.get("/v1/clocks/T-pol")
                return response.status_code == 200 and len(response.json()) == 2

            await eventually(started, what="both clocks (first response, resolution)")
            tighter = {
                "version": 1,
                "policies": [
                    {
                        "policy_id": "tighter",
                        "targets": {
                            "first_response": {"seconds": 3, "calendar": "24x7", "warn_at": 0.5},
                            "resolution": {"seconds": 3600, "calendar": "24x7"},
                        },
                    }
                ],
            }
            assert (await http.put("/v1/policies", json=tighter)).status_code == 200

            async def breached() -> list[Event[Any]]:
                return of_type(await sla_events(stack), "sla.breached")

            [breach] = await eventually(breached, within=15, what="the breach under the new policy")
            assert (breach.payload.policy_id, breach.payload.target_seconds) == ("tighter", 3)
    finally:
        await runtime.stop()


class FailsOnce:
    """A publisher whose first publish fails as a broker error would."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.failed = inner, False

    async def publish(self, spec: Any, event: Event[Any]) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("broker unreachable")
        await self.inner.publish(spec, event)


def build_failing_once(settings: SlaMonitorSettings) -> Any:
    runtime, app = build_sla(settings)
    app.state.sla.publisher = FailsOnce(app.state.sla.publisher)
    return runtime, app


async def test_clocks_saved_before_a_broker_error_still_announce_themselves(
    stack: TestStack, tmp_path: Path
) -> None:
    settings = stack.settings(
        SlaMonitorSettings, policies_path=short_policy(tmp_path, 600), retry_backoff_seconds=0.1
    )
    async with stack.running(build_failing_once, settings):
        await send_created(stack, "T-broker")

        async def started() -> set[str]:
            events = of_type(await sla_events(stack), "sla.clock_started")
            return {e.payload.target for e in events if e.payload.ticket_id == "T-broker"}

        async def both() -> bool:
            return await started() == {"first_response", "resolution"}

        # Saved, then the publish failed: the redelivered ticket.created changes no clock, and
        # the clocks' outboxes still announce both.
        await eventually(both, within=30, what="both clocks announced")

        # The redelivered record is settled too (offsets are committed in batches, later).
        async def settled() -> bool:
            return await stack.handled_everything(settings, topics.TICKETS)

        await eventually(settled, within=30, what="every ticket record handled and committed")
    events = [e for e in of_type(await sla_events(stack), "sla.clock_started") if e.payload.ticket_id == "T-broker"]  # fmt: skip
    assert len({e.event_id for e in events}) == 2


async def test_the_sweeper_publishes_what_a_crash_left_in_a_clock_outbox(
    stack: TestStack, tmp_path: Path
) -> None:
    settings = stack.settings(SlaMonitorSettings, outbox_sweep_seconds=0.5)
    event = SlaClockStarted(
        event_id=uuid.uuid4(),
        producer="s8-sla-monitor",
        occurred_at=utcnow(),
        payload=SlaPayload(
            ticket_id="T-crash", policy_id="standard", target="first_response",
            clock_id="T-crash/first_response/1", priority="normal", channel="email",
            calendar_id="24x7", target_seconds=600, elapsed_business_seconds=0,
            elapsed_calendar_seconds=0, remaining_business_seconds=600,
        ),
    )  # fmt: skip
    item = item_for(topics.SLA, event)
    # What a crash between saving a clock and publishing its event leaves behind.
    await stack.db(settings).clocks.insert_one(
        {"_id": "T-crash/first_response/1", "ticket_id": "T-crash", "state": "running",
         "rev": 1, "outbox": [asdict(item)], "has_outbox": True}
    )  # fmt: skip
    async with stack.running(build_sla, settings):

        async def published() -> list[Event[Any]]:
            return [e for e in await sla_events(stack) if str(e.event_id) == item.event_id]

        [found] = await eventually(published, within=30, what="the left-over event published")
        assert found.type == "sla.clock_started"

        async def emptied() -> bool:
            doc = await stack.db(settings).clocks.find_one({"_id": "T-crash/first_response/1"})
            return doc is not None and doc["outbox"] == [] and doc["has_outbox"] is False

        await eventually(emptied, within=10, what="the outbox emptied")
