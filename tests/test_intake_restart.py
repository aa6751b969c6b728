"""Kill intake (SIGKILL) while messages are pending, restart it: every message is
processed exactly once in effect — no loss, no duplicate ticket."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from s8_analytics.app import build as build_analytics
from s8_analytics.settings import AnalyticsSettings
from s8_intake.settings import IntakeSettings
from s8_shared import topics
from s8_shared.contracts import TICKET_EVENTS
from s8_testing.builders import make_sms
from s8_testing.harness import TestStack, eventually, free_port

pytestmark = pytest.mark.e2e

N = 150


def start_intake(stack: TestStack, settings: IntakeSettings, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **stack.env(settings),
        "S8_HTTP_PORT": str(free_port()),
        "S8_LOG_LEVEL": "WARNING",
    }
    # A file, not a pipe nobody reads: a full pipe would block the process's next log line
    # (a broker hiccup logs warnings) and freeze it, which looks like a lost message.
    with log.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "s8_intake"], env=env, stdout=subprocess.DEVNULL, stderr=err
        )


async def test_intake_killed_mid_stream_loses_nothing_and_duplicates_nothing(
    stack: TestStack, tmp_path: Path
) -> None:
    settings = stack.settings(IntakeSettings)
    db = stack.db(settings)
    for i in range(N):
        msg = make_sms(
            channel_message_id=f"sms-{i}", from_number=f"0903{i:06d}", text=f"Tin nhắn số {i}"
        )
        await stack.send(
            topics.INBOUND, json.dumps(msg, ensure_ascii=False).encode(), key=f"sms:{i}".encode()
        )

    async with stack.running(build_analytics, stack.settings(AnalyticsSettings)) as analytics:
        intake = start_intake(stack, settings, tmp_path / "intake.log")
        try:

            async def some_tickets() -> bool:
                return bool(await db.tickets.count_documents({}) >= 10)

            await eventually(
                some_tickets, within=60, interval=0.05, what="intake to process some messages"
            )
        finally:
            intake.send_signal(signal.SIGKILL)
            intake.wait()
        at_kill = await db.tickets.count_documents({})
        assert at_kill < N, "intake finished before it was killed; the test proves nothing"

        intake = start_intake(stack, settings, tmp_path / "intake.log")
        try:

            async def all_published() -> bool:
                return bool(await db.messages.count_documents({"state": "applied"}) == N)

            await eventually(
                all_published, within=90, what="every message to be published after restart"
            )
        finally:
            intake.send_signal(signal.SIGTERM)
            intake.wait(timeout=30)

        async def analytics_saw_all() -> bool:
            return bool(await stack.db(analytics.settings).tickets.count_documents({}) == N)

        await eventually(analytics_saw_all, within=60, what="analytics to see every ticket")

    assert await db.tickets.count_documents({}) == N
    events = await stack.read_all(topics.TICKETS, TICKET_EVENTS)
    by_ticket: dict[str, set[str]] = {}
    for event in events:
        by_ticket.setdefault(event.payload.ticket_id, set()).add(str(event.event_id))
    assert len(by_ticket) == N
    # A ticket.created re-published after the crash carries the same event id.
    assert all(len(ids) == 1 for ids in by_ticket.values())
    applied = await stack.db(analytics.settings).processed_events.count_documents({})
    assert applied == N
