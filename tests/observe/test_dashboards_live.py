"""Every dashboard query and every alert expression returns data from a real Prometheus
scraping the live local stack: no empty panel, no metric name that no service exports.

Runs `make run`'s stack (deploy/local/stack.py --prometheus) in its own topic namespace
and ports, with Debian's Prometheus scraping every 2 s, and evaluates the queries through
the Prometheus HTTP API while traffic flows.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from pymongo import MongoClient

from s8_shared.kafka.provision import delete_namespace
from s8_testing.infra import Infra

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy/k8s/s8/files/alerts.rules.yaml"
DASHBOARDS = sorted((REPO / "deploy/k8s/s8/files/dashboards").glob("*.json"))
PORT_BASE = 18640
PROMETHEUS_PORT = 19641
PROMETHEUS = f"http://127.0.0.1:{PROMETHEUS_PORT}"
# Grafana's variables, as Grafana would send them with "All" selected and a short range.
VARIABLES = {
    "$__rate_interval": "2m",
    "$__interval": "10s",
    "$__range": "5m",
    "$namespace": ".*",
    "$service": ".*",
    "$window": ".*",
}


def concrete(expr: str) -> str:
    for name in sorted(VARIABLES, key=len, reverse=True):
        expr = expr.replace(name, VARIABLES[name])
    assert "$" not in expr, f"unreplaced variable in {expr}"
    return expr


def top_level_split(expr: str) -> list[str]:
    """Operands of the top-level set operators (and, or, unless), their `on (…)` /
    `ignoring (…)` modifiers dropped."""
    parts, depth, start, i, quote = [], 0, 0, 0, ""
    while i < len(expr):
        c = expr[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0:
            word = re.match(r"\b(and|or|unless)\b", expr[i:])
            if word and (i == 0 or not (expr[i - 1].isalnum() or expr[i - 1] == "_")):
                parts.append(expr[start:i])
                i += len(word.group(0))
                start = i
                continue
        i += 1
    parts.append(expr[start:])
    modifier = re.compile(r"^\s*(on|ignoring)\s*\([^)]*\)")
    return [modifier.sub("", p).strip() for p in parts if p.strip()]


def without_threshold(expr: str) -> str:
    """`x > 0.1` → `x`: an alert's expression without its final comparison to a number."""
    return re.sub(r"\s*(==|!=|>=|<=|>|<)\s*-?[0-9.e+]+\s*$", "", expr.strip())


def alert_queries() -> list[tuple[str, str]]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    queries = []
    for group in groups:
        for rule in group["rules"]:
            for operand in top_level_split(rule["expr"]):
                queries.append((f"alert {rule['alert']}", without_threshold(operand)))
    return queries


def dashboard_queries() -> list[tuple[str, str]]:
    queries = []
    for path in DASHBOARDS:
        board = json.loads(path.read_text(encoding="utf-8"))
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                queries.append((f"{board['title']} › {panel['title']}", target["expr"]))
    return queries


# PromQL words that are not metric names.
PROMQL_WORDS = frozenset(
    [
        "sum",
        "avg",
        "max",
        "min",
        "count",
        "rate",
        "increase",
        "irate",
        "histogram_quantile",
        "by",
        "without",
        "on",
        "ignoring",
        "and",
        "or",
        "unless",
        "vector",
        "time",
        "abs",
        "clamp_min",
        "clamp_max",
        "topk",
        "bottomk",
        "group_left",
        "group_right",
        "le",
        "bool",
        "offset",
        "delta",
        "deriv",
        "changes",
        "resets",
        "timestamp",
        "absent",
        "scalar",
        "label_replace",
    ]
)
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def metric_names(expr: str) -> set[str]:
    """Names an expression reads: identifiers not inside quotes, braces, `by (...)` or
    ranges, and not PromQL keywords or functions."""
    without_strings = re.sub(r'"[^"]*"', "", expr)
    without_matchers = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", without_strings)
    without_groupings = re.sub(
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", without_matchers
    )
    words = set(re.findall(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b", without_groupings))
    return {w for w in words if w not in PROMQL_WORDS}


def exported_families() -> set[str]:
    """Every metric family the scraped services declare (`# TYPE` lines), with or without
    samples yet: a labelled counter nobody incremented is still exported."""
    targets = json.loads(urllib.request.urlopen(f"{PROMETHEUS}/api/v1/targets").read())
    names = {"up"}
    for target in targets["data"]["activeTargets"]:
        text = urllib.request.urlopen(target["scrapeUrl"], timeout=5).read().decode()
        names |= set(re.findall(r"^# TYPE (\S+) ", text, re.MULTILINE))
    return names


def family_of(name: str, families: set[str]) -> bool:
    return name in families or any(
        name.endswith(sfx) and name[: -len(sfx)] in families for sfx in SUFFIXES
    )


def test_expression_helpers() -> None:
    assert metric_names(
        'sum by (service, route) (rate(s8_http_requests_total{status=~"5.."}[2m])) or '
        "histogram_quantile(0.95, sum by (le) (rate(x_bucket[5m]))) * 0"
    ) == {"s8_http_requests_total", "x_bucket"}
    assert top_level_split('a{x="and"} > 0\nunless on (ns)\nb > 0') == ['a{x="and"} > 0', "b > 0"]
    assert top_level_split("sum by (x) (rate(m[5m])) or sum(m) * 0") == [
        "sum by (x) (rate(m[5m]))",
        "sum(m) * 0",
    ]
    assert without_threshold('up{job=~"s8-.+"} == 0') == 'up{job=~"s8-.+"}'
    assert without_threshold("a / b\n  > 0.1\n") == "a / b"
    assert without_threshold("time() - max(t)") == "time() - max(t)"


def query(expr: str) -> list[dict[str, Any]]:
    params = urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(f"{PROMETHEUS}/api/v1/query?{params}", timeout=10) as resp:
        body = json.loads(resp.read())
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def has_data(expr: str) -> bool:
    """At least one series with a number (histogram_quantile of nothing gives NaN)."""
    return any(not math.isnan(float(s["value"][1])) for s in query(expr))


def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(1)
    pytest.fail(f"timed out waiting for {what}")


def test_every_dashboard_panel_and_alert_expression_returns_data_from_the_live_stack(
    infra: Infra, tmp_path: Path
) -> None:
    if shutil.which("prometheus") is None:
        pytest.fail("prometheus is needed for this test: `make prometheus-tool` (Debian's package)")
    namespace = f"obs{uuid.uuid4().hex[:8]}."
    queries = [(where, concrete(expr)) for where, expr in dashboard_queries() + alert_queries()]
    out = (tmp_path / "stack.out").open("w+")
    started = time.monotonic()
    stack = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "deploy/local/stack.py"),
            "--duration",
            "600",
            "--every",
            "30",
            "--rate",
            "4",
            "--namespace",
            namespace,
            "--port-base",
            str(PORT_BASE),
            "--bootstrap",
            infra.kafka_bootstrap_servers,
            "--prometheus",
            "--prometheus-port",
            str(PROMETHEUS_PORT),
            "--scrape-interval",
            "2s",
        ],
        env={"PATH": "/usr/bin:/bin", "S8_MONGO_URI": infra.mongo_uri, "S8_LOG_LEVEL": "WARNING"},
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=REPO,
        start_new_session=True,  # its services and Prometheus can be stopped as one group
    )
    missing: list[str] = []
    unexported: list[str] = []
    try:
        wait_for(
            lambda: len(query('up{job=~"s8-.+"} == 1')) == 7,
            120,
            "Prometheus scraping the seven services",
        )
        rules = json.loads(urllib.request.urlopen(f"{PROMETHEUS}/api/v1/rules").read())
        loaded = [r for g in rules["data"]["groups"] for r in g["rules"]]
        groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
        assert len(loaded) == sum(len(g["rules"]) for g in groups), "Prometheus loaded the rules"
        assert all(r["health"] in ("ok", "unknown") for r in loaded), loaded
        # Traffic flows: re-check until every metric is exported and every query has data, or
        # time is up (some series appear only after the demo's periodic events; a loaded
        # machine needs longer, a quiet one returns early).
        deadline = time.monotonic() + 150
        while True:
            families = exported_families()
            unexported = sorted(
                f"{where}: {name}"
                for where, expr in queries
                for name in metric_names(expr)
                if not family_of(name, families)
            )
            missing = [f"{where}: {expr}" for where, expr in queries if not has_data(expr)]
            if (not missing and not unexported) or time.monotonic() > deadline:
                break
            time.sleep(5)
    finally:
        stack.send_signal(signal.SIGINT)
        try:
            stack.wait(timeout=60)
        except subprocess.TimeoutExpired:
            # Never leave its services behind: they would hold the ports of the next run.
            os.killpg(stack.pid, signal.SIGKILL)
            stack.wait()
        asyncio.run(delete_namespace(infra.kafka_bootstrap_servers, namespace))
        mongo: MongoClient[dict[str, Any]]
        with MongoClient(infra.mongo_uri) as mongo:
            for name in mongo.list_database_names():
                if name.startswith(namespace.replace(".", "_")):
                    mongo.drop_database(name)
        out.seek(0)
        log = out.read()
        print(f"live dashboard check took {time.monotonic() - started:.0f}s")
    assert "Prometheus on http://127.0.0.1:" in log, log
    assert not unexported, "metrics no service exports:\n" + "\n".join(unexported)
    assert not missing, f"{len(missing)} of {len(queries)} queries return no data:\n" + "\n".join(
        missing
    )
