"""The HTTP fuzzer's short run (`make fuzz` runs more examples per operation): schemathesis
against every service's OpenAPI document, with valid credentials, the services as processes."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy/local"))

from fuzz_http import run
from procs import MODULES, REPO, LocalInfra

pytestmark = pytest.mark.integration


async def test_no_generated_request_gets_a_5xx_or_crashes_a_service() -> None:
    infra = LocalInfra(REPO / ".local", int(os.environ.get("S8_KAFKA_PORT", "9092")), int(os.environ.get("S8_MONGO_PORT", "27017")))  # fmt: skip
    results = await run(infra, max_examples=3, seed=3, port_base=31300)
    assert set(results) == set(MODULES)
    for module, row in results.items():
        assert row["inputs"] > 20, module  # every operation was exercised
        assert (row["5xx"], row["failing"], row["crashed"]) == (0, [], False), module
        assert row["healthz_after"] == "ok", module
        assert row["open_writes"] == [], module  # no write answers without a valid token
