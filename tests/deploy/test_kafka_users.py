"""Strimzi KafkaUsers of the chart (kafka.acls.strimzi): one per Kafka user s8 knows, their ACLs
those of files/kafka-acls.json with the release's topic namespace and consumer-group prefix, and
the processes logging in as them. Off by default."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "k8s" / "s8"
PRODUCTION = REPO / "deploy" / "k8s" / "values" / "production.yaml"
CHECKER = REPO / ".local/tools/bin/s8-manifest-check"
KUBE_VERSION = "1.31.0"
ACL_FILE = json.loads((CHART / "files" / "kafka-acls.json").read_text())
# The chart's processes (values key of secrets.kafka) and their Kafka users.
PROCESS_USERS = {
    "intake": "s8-intake",
    "router": "s8-router",
    "slaMonitor": "s8-sla-monitor",
    "survey": "s8-survey",
    "analytics": "s8-analytics",
    "desk": "s8-desk",
    "channels": "s8-channels",
}
SYSTEM_USERS = {"s8-workforce"}
STRIMZI = ["kafka.acls.strimzi.enabled=true", "kafka.acls.strimzi.cluster=events"]
OPERATIONS = {"READ": "Read", "WRITE": "Write", "DESCRIBE": "Describe"}

Manifest = dict[str, Any]


def helm_binary() -> str:
    local = REPO / ".local/tools/bin/helm"
    path = os.environ.get("S8_HELM") or (str(local) if local.exists() else shutil.which("helm"))
    if not path:
        raise AssertionError("Helm is needed for the chart tests: `make helm`")
    return path


def template(*sets: str, values: Path | None = PRODUCTION) -> subprocess.CompletedProcess[str]:
    args = ["-f", str(values)] if values else []
    for assignment in sets:
        args += ["--set", assignment]
    return subprocess.run(
        [helm_binary(), "template", "s8", str(CHART), "--kube-version", KUBE_VERSION, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def render(*sets: str, values: Path | None = PRODUCTION) -> list[Manifest]:
    result = template(*sets, values=values)
    assert result.returncode == 0, result.stderr
    return [m for m in yaml.safe_load_all(result.stdout) if m]


def kafka_users(manifests: list[Manifest]) -> dict[str, Manifest]:
    users = [m for m in manifests if m["kind"] == "KafkaUser"]
    by_name = {u["metadata"]["name"]: u for u in users}
    assert len(by_name) == len(users), "a KafkaUser twice"
    return by_name


def acls(user: Manifest) -> list[dict[str, Any]]:
    spec = user["spec"]
    assert spec["authentication"] == {"type": "scram-sha-512"}
    assert spec["authorization"]["type"] == "simple"
    rules: list[dict[str, Any]] = spec["authorization"]["acls"]
    return rules


def expected_acls(user: str, topic_namespace: str, group_prefix: str) -> list[dict[str, Any]]:
    """files/kafka-acls.json in Strimzi's terms, names with the release's prefixes."""
    prefix = {"TOPIC": topic_namespace, "GROUP": group_prefix}
    return [
        {
            "resource": {
                "type": entry["resource"].lower(),
                "name": prefix[entry["resource"]] + entry["name"],
                "patternType": {"LITERAL": "literal", "PREFIXED": "prefix"}[entry["pattern"]],
            },
            "operations": [OPERATIONS[op] for op in entry["operations"]],
        }
        for entry in ACL_FILE[user]
    ]


def allows(rules: list[dict[str, Any]], operation: str, kind: str, name: str) -> bool:
    """Whether simple authorization would allow `operation` on the named resource."""
    for rule in rules:
        resource = rule["resource"]
        if resource["type"] != kind or operation not in rule["operations"]:
            continue
        pattern = resource.get("patternType", "literal")
        if pattern == "literal" and resource["name"] in (name, "*"):
            return True
        if pattern == "prefix" and name.startswith(resource["name"]):
            return True
    return False


def container_env(manifest: Manifest) -> dict[str, Any]:
    (container,) = manifest["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e for e in container["env"]}


@pytest.mark.parametrize("values", [None, PRODUCTION], ids=["default", "production"])
def test_no_kafka_user_unless_enabled(values: Path | None) -> None:
    assert not kafka_users(render(values=values))


@pytest.mark.parametrize(
    ("topic_namespace", "group_prefix"),
    [("", "s8-"), ("acme.", "acme-")],
    ids=["plain", "prefixed"],
)
def test_every_user_gets_a_kafka_user_with_the_acls_of_the_file(
    topic_namespace: str, group_prefix: str
) -> None:
    users = kafka_users(
        render(
            *STRIMZI,
            f"kafka.topicNamespace={topic_namespace}",
            f"kafka.consumerGroupPrefix={group_prefix}",
        )
    )
    assert set(ACL_FILE) == set(PROCESS_USERS.values()) | SYSTEM_USERS
    assert set(users) == set(ACL_FILE) | {"s8-provisioning"}
    for name, user in users.items():
        assert user["apiVersion"] == "kafka.strimzi.io/v1beta2"
        assert user["metadata"]["labels"]["strimzi.io/cluster"] == "events"
        if name != "s8-provisioning":
            assert acls(user) == expected_acls(name, topic_namespace, group_prefix), name
    # Consumer groups as the services name them: <prefix><service>.<topic>
    router = acls(users["s8-router"])
    assert allows(router, "Read", "group", f"{group_prefix}router.support.tickets.v1")
    assert not allows(router, "Read", "group", f"{group_prefix}intake.support.tickets.v1")
    assert allows(router, "Read", "topic", f"{topic_namespace}support.tickets.v1")


def test_the_router_writes_agents_and_assignments_but_not_tickets() -> None:
    router = acls(kafka_users(render(*STRIMZI, "kafka.topicNamespace=t1."))["s8-router"])
    assert allows(router, "Write", "topic", "t1.support.agents.v1")
    assert allows(router, "Write", "topic", "t1.support.assignments.v1")
    assert not allows(router, "Write", "topic", "t1.support.tickets.v1")
    assert not allows(router, "Write", "topic", "support.agents.v1")  # another namespace's
    assert not allows(router, "Create", "topic", "t1.support.agents.v1")


@pytest.mark.parametrize(
    ("topic_namespace", "covered", "not_covered"),
    [("", "support.tickets.v1", None), ("acme.", "acme.support.tickets.v1", "support.tickets.v1")],
)
def test_the_topic_job_user_creates_and_describes_the_release_topics_and_exists_before_the_job(
    topic_namespace: str, covered: str, not_covered: str | None
) -> None:
    manifests = render(*STRIMZI, f"kafka.topicNamespace={topic_namespace}")
    user = kafka_users(manifests)["s8-provisioning"]
    rules = acls(user)
    assert {op for rule in rules for op in rule["operations"]} == {"Create", "Describe"}
    assert allows(rules, "Create", "topic", covered)
    assert allows(rules, "Describe", "topic", covered)
    if not_covered:
        assert not allows(rules, "Create", "topic", not_covered)
    assert not allows(rules, "Read", "topic", covered)
    # A hook before the topic Job (itself a hook): the Job logs in as it on a first install.
    (job,) = [m for m in manifests if m["kind"] == "Job"]
    annotations = user["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == job["metadata"]["annotations"]["helm.sh/hook"]
    assert int(annotations["helm.sh/hook-weight"]) < int(
        job["metadata"]["annotations"]["helm.sh/hook-weight"]
    )
    assert container_env(job)["S8_KAFKA_SASL_USERNAME"] == {
        "name": "S8_KAFKA_SASL_USERNAME",
        "value": "s8-provisioning",
    }


def test_the_processes_log_in_as_their_kafka_user_with_the_password_of_its_secret() -> None:
    sets = [*STRIMZI]
    for key, user in [*PROCESS_USERS.items(), ("provisioning", "s8-provisioning")]:
        sets.append(f"secrets.kafka.{key}.password.name={user}")
        sets.append(f"secrets.kafka.{key}.password.key=password")
    manifests = render(*sets)
    users = kafka_users(manifests)
    workloads = [m for m in manifests if m["kind"] in {"Deployment", "Job"}]
    assert len(workloads) == 8
    for workload in workloads:
        env = container_env(workload)
        name = env["S8_KAFKA_SASL_USERNAME"]["value"]
        assert name in users
        # Strimzi's Secret: named as the user, the password under `password`.
        assert env["S8_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": name,
            "key": "password",
        }


def test_a_disabled_service_or_topic_job_gets_no_kafka_user() -> None:
    users = kafka_users(
        render(*STRIMZI, "services.analytics.enabled=false", "provisioning.enabled=false")
    )
    assert "s8-analytics" not in users
    assert "s8-provisioning" not in users
    assert {"s8-intake", "s8-router", "s8-desk", *SYSTEM_USERS} <= set(users)
    # The desk is one of s8's services now, no longer a system around it.
    users = kafka_users(render(*STRIMZI, "services.desk.enabled=false"))
    assert "s8-desk" not in users
    assert set(users) == set(ACL_FILE) - {"s8-desk"} | {"s8-provisioning"}


def test_the_desk_reads_what_its_read_model_needs_and_writes_only_agents_actions() -> None:
    desk = acls(kafka_users(render(*STRIMZI, "kafka.topicNamespace=t1."))["s8-desk"])
    for topic in ["tickets", "assignments", "sla", "surveys", "agents"]:
        assert allows(desk, "Read", "topic", f"t1.support.{topic}.v1"), topic
    assert allows(desk, "Read", "group", "s8-desk.support.tickets.v1")
    assert not allows(desk, "Read", "group", "s8-router.support.tickets.v1")
    assert allows(desk, "Write", "topic", "t1.support.actions.v1")
    assert not allows(desk, "Write", "topic", "t1.support.tickets.v1")
    assert not allows(desk, "Write", "topic", "t1.support.assignments.v1")
    assert not allows(desk, "Create", "topic", "t1.support.actions.v1")


@pytest.mark.parametrize(
    ("sets", "values", "message"),
    [
        (["kafka.acls.strimzi.enabled=true"], PRODUCTION, "/kafka/acls/strimzi/cluster"),
        (STRIMZI, None, "/kafka/securityProtocol"),  # PLAINTEXT: no user logs in
        ([*STRIMZI, "kafka.saslMechanism=SCRAM-SHA-256"], PRODUCTION, "/kafka/saslMechanism"),
        (["kafka.acls.strimzi.enable=true"], PRODUCTION, "enable"),
        (["kafka.acls.strimzi.cluster=Not_A_Name"], PRODUCTION, "/kafka/acls/strimzi/cluster"),
    ],
    ids=["no cluster", "plaintext", "another mechanism", "key typo", "cluster not a name"],
)
def test_wrong_strimzi_values_fail_the_schema(
    sets: list[str], values: Path | None, message: str
) -> None:
    result = template(*sets, values=values)
    assert result.returncode != 0
    assert "schema" in result.stderr
    assert message in result.stderr


def test_the_rendered_kafka_users_pass_the_manifest_check() -> None:
    if not CHECKER.exists():
        raise AssertionError("the manifest checker is needed: `make helm` builds it")
    result = template(*STRIMZI, "kafka.topicNamespace=acme.")
    assert result.returncode == 0, result.stderr
    checked = subprocess.run(
        [str(CHECKER)], input=result.stdout, capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked.stderr
    ok = [line for line in checked.stdout.splitlines() if line.startswith("ok ")]
    assert sum("kafka.strimzi.io/v1beta2/KafkaUser" in line for line in ok) == len(ACL_FILE) + 1
