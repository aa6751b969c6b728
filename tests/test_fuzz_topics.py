"""The topic fuzzer's short run (`make fuzz` runs 10,000 inputs): hostile messages on every
topic s8 reads, all seven services running on the real broker and store."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy/local"))

from fuzz_topics import FUZZED, run

pytestmark = pytest.mark.integration


async def test_hostile_messages_on_every_topic_are_dead_lettered_at_once_and_block_nothing() -> None:  # fmt: skip
    result = await run(per_topic=24, seed=3, drain_within=120)
    assert result["inputs"] == 24 * len(FUZZED)
    assert result["groups_behind"] == []  # every consumer group committed every record
    assert result["valid_message_seconds"] is not None  # the valid message behind became a ticket
    assert result["gave_up_reasons"] == []  # none retried as transient: invalid at once
    assert set(result["dead_letters_by_type"]) == {"invalid", "too_large"}
    assert result["dead_letters"] >= result["inputs"]  # each topic has one or more readers
