"""Rendered manifests decode strictly into the Kubernetes API types (k8s.io/api, via the
Go checker in deploy/k8s/validate): no misspelt or misplaced field, no wrong type."""

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKER = REPO / ".local/tools/bin/s8-manifest-check"
HELM = REPO / ".local/tools/bin/helm"
CHART = REPO / "deploy/k8s/s8"
KUBE_VERSION = "1.31.0"


def check(manifests: str) -> subprocess.CompletedProcess[str]:
    if not CHECKER.exists():
        raise AssertionError("the manifest checker is needed: `make helm` builds it")
    return subprocess.run(
        [str(CHECKER)], input=manifests, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("values", ["", "small.yaml", "production.yaml"])
def test_every_rendered_object_decodes_strictly_into_its_api_type(values: str) -> None:
    args = ["-f", str(REPO / "deploy/k8s/values" / values)] if values else []
    rendered = subprocess.run(
        [str(HELM), "template", "s8", str(CHART), "--kube-version", KUBE_VERSION, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    result = check(rendered)
    assert result.returncode == 0, result.stderr
    checked = [line for line in result.stdout.splitlines() if line.startswith("ok ")]
    assert sum("apps/v1/Deployment" in line for line in checked) == 7
    # One per service and one for the topic Job, decoded into networking/v1 NetworkPolicy.
    assert sum("networking.k8s.io/v1/NetworkPolicy" in line for line in checked) == 8
    # The production values route to the desk through an Ingress of its own.
    ingresses = sum("networking.k8s.io/v1/Ingress" in line for line in checked)
    assert ingresses == (3 if values == "production.yaml" else 0)


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec:
      containers:
        - name: app
          image: s8-intake:0.1.0
          %s
"""


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("readinesProbe: {httpGet: {path: /readyz, port: 8080}}", "readinesProbe"),
        ("resources: {limits: {memory: 512 MiB}}", "quantities must match"),
        ("securityContext: {runAsNonRoot: 'yes'}", "runAsNonRoot"),
    ],
)
def test_a_misspelt_field_or_a_wrong_type_is_refused_with_its_name(line: str, reason: str) -> None:
    result = check(DEPLOYMENT % line)
    assert result.returncode == 1
    assert reason in result.stderr


NETWORK_POLICY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad}
spec:
  podSelector: {matchLabels: {app: bad}}
  policyTypes: [Ingress]
  ingress:
    - %s
"""


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("{form: [{podSelector: {}}], ports: [{port: 8080}]}", "form"),
        # A NetworkPolicy has no URL paths (the Ingress filters those).
        ("{from: [{podSelector: {}}], ports: [{port: 8080, protocol: TCP, path: /s}]}", "path"),
    ],
)
def test_a_wrong_network_policy_is_refused(rule: str, reason: str) -> None:
    result = check(NETWORK_POLICY % rule)
    assert result.returncode == 1
    assert reason in result.stderr


def test_a_kind_the_checker_does_not_know_is_refused() -> None:
    result = check("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")
    assert result.returncode == 1
    assert "kind not known" in result.stderr


KAFKA_USER = """
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaUser
metadata:
  name: s8-router
  labels: {%s}
spec:
  authentication: {type: scram-sha-512}
  authorization:
    type: simple
    acls:
      - %s
"""
CLUSTER = "strimzi.io/cluster: events"
RULE = "{resource: {type: topic, name: support.agents.v1, patternType: literal}, operations: [Write, Describe]}"  # fmt: skip


def test_a_strimzi_kafka_user_is_decoded_into_its_schema() -> None:
    result = check(KAFKA_USER % (CLUSTER, RULE))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok kafka.strimzi.io/v1beta2/KafkaUser s8-router"


@pytest.mark.parametrize(
    ("labels", "rule", "reason"),
    [
        # v1beta1's singular field, gone from v1beta2's ACL rules.
        (CLUSTER, "{resource: {type: topic, name: t}, operation: Read}", "operation"),
        (
            CLUSTER,
            "{resource: {type: topic, name: t, patternType: prefixed}, operations: [Read]}",
            "patternType",
        ),
        (
            CLUSTER,
            "{resource: {type: topic, name: t}, operations: [READ]}",
            "not a Kafka ACL operation",
        ),
        (CLUSTER, "{resource: {type: topics, name: t}, operations: [Read]}", "resource.type"),
        (CLUSTER, "{resource: {type: group}, operations: [Read]}", "resource.name is required"),
        (CLUSTER, "{resource: {type: topic, name: t}, operations: []}", "operations is required"),
        ("", RULE, "strimzi.io/cluster is required"),
    ],
)
def test_a_wrong_kafka_user_is_refused(labels: str, rule: str, reason: str) -> None:
    result = check(KAFKA_USER % (labels, rule))
    assert result.returncode == 1
    assert reason in result.stderr


def test_another_strimzi_kind_or_version_is_not_known() -> None:
    result = check((KAFKA_USER % (CLUSTER, RULE)).replace("v1beta2", "v1beta1"))
    assert result.returncode == 1
    assert "kind not known" in result.stderr
