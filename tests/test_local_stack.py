"""`make run`'s stack (deploy/local/stack.py) end to end: seven service processes,
generated traffic, the problem and compensation demo, a live view, the run's summary from
analytics, and a clean stop."""

import asyncio
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from s8_shared.kafka.provision import delete_namespace
from s8_testing.infra import Infra

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]


def count(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found, f"{pattern!r} not in live view:\n{text}"
    return int(found.group(1))


def test_make_run_stack_moves_traffic_through_all_seven_services_and_stops_cleanly(
    infra: Infra,
) -> None:
    namespace = f"run{uuid.uuid4().hex[:8]}."
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "deploy/local/stack.py"),
            "--duration",
            "12",
            "--every",
            "4",
            "--rate",
            "4",
            "--namespace",
            namespace,
            "--port-base",
            "18000",
            "--bootstrap",
            infra.kafka_bootstrap_servers,
        ],
        env={"PATH": "/usr/bin:/bin", "S8_MONGO_URI": infra.mongo_uri, "S8_LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=REPO,
    )
    asyncio.run(delete_namespace(infra.kafka_bootstrap_servers, namespace))
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "all services ready" in out
    last_view = out.rsplit("── s8 live", 1)[1]
    created = count(r"tickets created\s+(\d+)", last_view)
    published = count(r"ticket events published\s+(\d+)", last_view)
    assert created >= 20
    assert published >= created
    for service in ("router", "sla-monitor", "survey", "analytics", "desk"):
        applied = count(rf"{service}\s+ticket events applied\s+(\d+)", last_view)
        # Delivery is at-least-once: an event published twice (a bot conversation sent again
        # keeps its event id) is applied once and skipped once as a duplicate.
        duplicates = count(
            rf"{service}\s+ticket events applied\s+\d+\s+duplicates skipped\s+(\d+)", last_view
        )
        assert applied + duplicates == published, (
            f"{service} applied {applied} (+{duplicates} duplicates) of {published}\n{last_view}"
        )
    assert f"analytics   {created} tickets by channel" in last_view
    # The proactive-support demo runs on a timeline compressed to the duration: the Hà Nội
    # customers are told of the problem, which is resolved before the stack stops.
    assert re.search(r"lead ha declared problem P-\w+", out), out
    assert re.search(r"lead ha resolved problem P-\w+", out), out
    assert count(r"problem notices sent\s+(\d+)", last_view) >= 4
    count(r"incidents linked\s+(\d+)", last_view)
    count(r"compensation granted\s+(\d+)\s+approved\s+\d+\s+pending\s+\d+\s+rejected", last_view)
    # Every demo agent's inbox stream is open while the demo runs (closed for the last view),
    # and what the desk pushed was read live.
    assert re.search(r"streams open\s+7\s+notices pushed", out), out
    pushed = count(r"streams open\s+\d+\s+notices pushed\s+(\d+)", last_view)
    assert pushed >= 1
    assert count(r"inbox streams 7\s+notices read\s+(\d+)", last_view) >= 1
    assert "/inbox — sign in as one of lan" in out
    # The platforms' own signed webhooks and relayed mail reach s8; forgeries are refused;
    # s8's answers go out through the local relay and platform stand-ins.
    assert re.search(r"channels\s+webhooks .*zalo \d+", last_view), last_view
    assert count(r"native customers sent .* accepted (\d+)", last_view) >= 4
    assert count(r"errors (\d+)", last_view) == 0
    assert count(r"mail sink (\d+)", last_view) >= 1
    summary = out.rsplit("==> the run, as analytics counts it", 1)[1]
    assert count(r"tickets created (\d+), solved \d+", summary) == created
    for line in ("first response median", "SLA compliance", "CSAT", "NPS", "bot handoff rate", "FAQ deflection"):  # fmt: skip
        assert line in summary, summary
    assert "==> stopped" in out
    leftovers = subprocess.run(
        ["pgrep", "-f", f"S8_TOPIC_NAMESPACE={namespace}"], capture_output=True, check=False
    )
    assert leftovers.stdout == b""
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert "--port-base 18000" not in ps
