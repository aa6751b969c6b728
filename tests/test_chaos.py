"""The chaos run's short version (`make chaos` runs every fault at 30 messages/s): a loaded
stack on its own broker and store, kill -9 of intake, of the broker and of the store."""

import argparse
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy/local"))

from chaos import COLUMNS, LOCAL, chaos
from procs import LocalInfra

pytestmark = pytest.mark.integration


async def test_killing_intake_the_broker_or_the_store_loses_and_duplicates_no_ticket() -> None:
    args = argparse.Namespace(rate=5.0, faults=("s8_intake", "kafka", "mongo"), window=10.0, down=2.0, drain=300.0, port_base=31100)  # fmt: skip
    infra = LocalInfra(LOCAL, 31092, 31017)
    infra.run("up")
    try:
        result = await chaos(args, infra)
    finally:
        infra.run("down")
    assert result["groups_behind"] == []
    table = result["table"]
    assert {"s8_intake", "kafka", "mongo"} <= set(table)
    for window, row in table.items():
        expected = dict.fromkeys(COLUMNS, 0) | {c: row["offered"] for c in ("offered", "tickets", "analytics")}  # fmt: skip
        assert row == expected, window
        assert row["offered"] > 0, window
