"""How many store round trips one new ticket costs, read from intake's own Mongo command
metrics (`s8_mongo_command_duration_seconds_count`, one observation per command).

Run alone to see the figures (`-s` prints them):
  S8_TEST_INFRA=local bash deploy/local/with-infra.sh .venv/bin/python -m pytest -q -s \
      tests/test_intake_round_trips.py

Intake's periodic jobs (outbox sweeps, problem outreach, the runtime's own jobs) also talk to
the store; their rate is measured idle first and subtracted for the time the burst took.
"""

import asyncio
import time
from collections import Counter

import pytest

from s8_testing.builders import make_inbound
from s8_testing.harness import TestStack
from s8_testing.intake_stack import Intake, running_intake

pytestmark = pytest.mark.integration

METRIC = "s8_mongo_command_duration_seconds_count"
NEW_TICKETS = 30
IDLE_SECONDS = 3.0
# A customer who wrote before: the customer (one joined read), the message's record, insert
# the ticket with its outbox, write the message, empty the outbox after publishing (5; the
# open problems are read at most once a second). A first contact creates the customer and
# its identity instead of reading the message's record (a message that just made its
# customer cannot have been recorded before): 6.
MAX_ROUND_TRIPS = 6
# The periodic jobs run on timers: a sweep during the burst adds a few commands that the
# idle rate does not predict. One more command per ticket adds 1.0, far above this.
NOISE = 0.25


def commands(intake: Intake) -> Counter[str]:
    """Commands intake sent to its store so far, by command name."""
    counted: Counter[str] = Counter()
    for metric in intake.runtime.registry.collect():
        for sample in metric.samples:
            if sample.name == METRIC:
                counted[sample.labels["command"]] += int(sample.value)
    return counted


async def round_trips_per_ticket(intake: Intake, idle_rate: float, round_: str) -> float:
    """Posts NEW_TICKETS messages that each open a ticket (customer n writes message
    `round_`), and returns the store commands per ticket, the periodic jobs' share taken out."""
    before, started = commands(intake), time.monotonic()
    for n in range(NEW_TICKETS):
        result = await intake.post(
            make_inbound(
                channel_message_id=f"<{round_}-{n}@example.vn>",
                subject=f"Yêu cầu {round_} số {n}",
                **{"from": {"address": f"customer{n}@example.vn", "name": f"Khách {n}"}},
            )
        )
        assert result["outcome"] == "created"
    took = time.monotonic() - started
    burst = commands(intake) - before
    per_ticket = (sum(burst.values()) - idle_rate * took) / NEW_TICKETS
    print(
        f"\n{round_}: {per_ticket:.2f} store round trips per new ticket "
        f"({sum(burst.values())} commands for {NEW_TICKETS} tickets in {took:.2f}s); "
        f"by command: {dict(sorted(burst.items()))}"
    )
    # To a tenth: the periodic jobs run on a timer, so their share is an estimate.
    return round(per_ticket, 1)


async def test_a_new_ticket_costs_at_most_six_store_round_trips_first_contact_included(
    stack: TestStack,
) -> None:
    async for intake in running_intake(stack):
        await intake.post(make_inbound(channel_message_id="<warm-up@example.vn>"))
        await asyncio.sleep(1.0)  # the periodic jobs' first runs are over

        before_idle, started = commands(intake), time.monotonic()
        await asyncio.sleep(IDLE_SECONDS)
        idle = commands(intake) - before_idle
        idle_rate = sum(idle.values()) / (time.monotonic() - started)
        print(f"\nidle: {idle_rate:.2f} commands/s, by command: {dict(sorted(idle.items()))}")

        first_contact = await round_trips_per_ticket(intake, idle_rate, "first")
        returning = await round_trips_per_ticket(intake, idle_rate, "again")
        assert returning <= MAX_ROUND_TRIPS + NOISE
        assert first_contact <= MAX_ROUND_TRIPS + NOISE
