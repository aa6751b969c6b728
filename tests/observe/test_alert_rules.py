"""The alert rules and dashboards as files: promtool checks and tests the rules, every
alert links to a runbook section that exists and has a promtool test, and the dashboards
are Grafana JSON whose panels all query something."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "deploy/k8s/s8/files/alerts.rules.yaml"
RULE_TESTS = REPO / "deploy/k8s/alerts-tests/alerts.test.yaml"
RUNBOOKS = REPO / "docs/runbooks.md"
DASHBOARDS = sorted((REPO / "deploy/k8s/s8/files/dashboards").glob("*.json"))


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is needed for this test: `make prometheus-tool` (Debian's package)")
    return found


def alerts() -> list[dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def github_anchors(markdown: str) -> set[str]:
    """Anchors GitHub gives the headings: lower case, punctuation dropped, spaces → '-'."""
    anchors = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", markdown, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def test_promtool_checks_the_rules_file() -> None:
    result = subprocess.run(
        [promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_of_the_alerts_pass() -> None:
    result = subprocess.run(
        [promtool(), "test", "rules", str(RULE_TESTS)],
        capture_output=True,
        text=True,
        check=False,
        cwd=RULE_TESTS.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_promtool_tests_use_the_charts_rules_file() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))
    assert [(RULE_TESTS.parent / f).resolve() for f in tests["rule_files"]] == [RULES]


def test_every_alert_has_severity_summary_description_and_a_runbook_section() -> None:
    anchors = github_anchors(RUNBOOKS.read_text(encoding="utf-8"))
    rules = alerts()
    assert len(rules) >= 6
    for rule in rules:
        name = rule["alert"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        notes = rule["annotations"]
        assert notes["summary"].strip(), name
        assert notes["description"].strip(), name
        page, _, anchor = notes["runbook_url"].partition("#")
        assert page == "docs/runbooks.md", name
        assert anchor in anchors, f"{name}: no section #{anchor} in docs/runbooks.md"


def test_every_alert_is_tested_firing_and_quiet() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text(encoding="utf-8"))["tests"]
    cases = [case for test in tests for case in test.get("alert_rule_test", [])]
    for rule in alerts():
        name = rule["alert"]
        outcomes = {bool(case["exp_alerts"]) for case in cases if case["alertname"] == name}
        assert outcomes == {True, False}, f"{name}: needs a firing and a quiet promtool case"


def test_the_issues_alerts_are_all_there() -> None:
    names = {rule["alert"] for rule in alerts()}
    assert {
        "S8ServiceDown",
        "S8ConsumerLagGrowing",
        "S8DeadLetters",
        "S8SlaBreachRateHigh",
        "S8QueueWaitingNoAgentOnline",
        "S8SlaSchedulerLagging",
    } <= names


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_is_grafana_json_whose_panels_all_query_prometheus(path: Path) -> None:
    board = json.loads(path.read_text(encoding="utf-8"))
    assert board["uid"] == path.stem
    assert board["schemaVersion"] >= 36
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = board["panels"]
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        if panel["type"] == "row":
            continue
        title = panel["title"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, title
        assert panel["targets"], f"{title}: no targets"
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), title
        for target in panel["targets"]:
            assert target["expr"].strip(), title
            assert target["datasource"]["uid"] == "${datasource}", title
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, title


def test_the_dashboards_are_the_two_the_issue_asks_for() -> None:
    titles = {json.loads(p.read_text(encoding="utf-8"))["title"] for p in DASHBOARDS}
    assert titles == {"s8 / Services", "s8 / Support KPIs"}
