"""The chart ships the dashboards and alert rules unchanged: one ConfigMap per dashboard
with Grafana's sidecar label, and a PrometheusRule whose groups are the promtool-tested
rules file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy/k8s/s8"
KUBE_VERSION = "1.31.0"


def render(*args: str) -> list[dict[str, Any]]:
    local = REPO / ".local/tools/bin/helm"
    binary = os.environ.get("S8_HELM") or (str(local) if local.exists() else shutil.which("helm"))
    assert binary, "Helm is needed for the chart tests: `make helm`"
    result = subprocess.run(
        [binary, "template", "s8", str(CHART), "--kube-version", KUBE_VERSION, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def test_prometheus_rule_embeds_the_rules_file_unchanged() -> None:
    (rule,) = of_kind(
        render("--set", "prometheusRule.labels.release=kube-prometheus-stack"), "PrometheusRule"
    )
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    rules_file = yaml.safe_load((CHART / "files/alerts.rules.yaml").read_text(encoding="utf-8"))
    assert rule["spec"]["groups"] == rules_file["groups"]


def test_each_dashboard_is_a_configmap_for_the_grafana_sidecar() -> None:
    docs = render(
        "--set",
        "grafanaDashboards.namespace=monitoring",
        "--set",
        "grafanaDashboards.annotations.grafana_folder=s8",
    )
    maps = {
        key: doc
        for doc in of_kind(docs, "ConfigMap")
        for key in doc.get("data", {})
        if key.endswith(".json")
    }
    files = sorted((CHART / "files/dashboards").glob("*.json"))
    assert sorted(maps) == [f.name for f in files]
    for path in files:
        doc = maps[path.name]
        assert doc["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert doc["metadata"]["namespace"] == "monitoring"
        assert doc["metadata"]["annotations"] == {"grafana_folder": "s8"}
        assert json.loads(doc["data"][path.name]) == json.loads(path.read_text(encoding="utf-8"))


def test_dashboards_and_rules_can_be_turned_off() -> None:
    docs = render(
        "--set", "grafanaDashboards.enabled=false", "--set", "prometheusRule.enabled=false"
    )
    assert not of_kind(docs, "PrometheusRule")
    assert not [
        doc
        for doc in of_kind(docs, "ConfigMap")
        if any(k.endswith(".json") for k in doc.get("data", {}))
    ]
