"""Kafka principals for the local broker: a SCRAM-SHA-512 user per service, and ACLs that let
each service write only the topics it produces and read only those it consumes, as its own
AsyncAPI document (docs/api/<service>.asyncapi.json) says, plus the writes those documents do
not show: raw copies (the router's profiles, intake's inbound), the desk's `support.actions.v1` (agents' actions, for intake), and
the workforce system around s8 (`support.agents.v1`, beside the router). Applied by
KafkaAccess.java through the PLAINTEXT listener (the local super user); services then connect
to the SASL_PLAINTEXT listener.

    .venv/bin/python deploy/local/kafka_access.py [--namespace NS] [--bootstrap 127.0.0.1:9092]

`--write-chart` writes the same grants, by user, to the Helm chart's files/kafka-acls.json
instead (no broker needed): topic names without a namespace and group names without the
consumer-group prefix, which the chart adds (kafka.topicNamespace, kafka.consumerGroupPrefix).
tests/deploy checks the file is current, so run it when an AsyncAPI document changes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "router", "sla-monitor", "survey", "analytics", "desk", "channels")
PASSWORD = "s8-dev-only-secret"  # local development only
# Writers the AsyncAPI documents do not show: raw copies (published as received, with no
# contract publisher) and the systems around s8.
EXTRA_WRITES = {
    "s8-router": ["support.agents.v1"],
    "s8-intake": ["support.inbound.v1"],
    "s8-workforce": ["support.agents.v1"],
    "s8-desk": ["support.actions.v1"],
}
Acl = dict[str, str]
CHART_ACLS = REPO / "deploy" / "k8s" / "s8" / "files" / "kafka-acls.json"
OPERATIONS = ("READ", "WRITE", "DESCRIBE")  # the order of `operations` in CHART_ACLS


def topics_of(service: str) -> tuple[set[str], set[str]]:
    """(produced, consumed) topic names of a service, from its AsyncAPI document."""
    path = REPO / "docs" / "api" / f"{service}.asyncapi.json"
    doc = json.loads(path.read_text())
    found: dict[str, set[str]] = {"send": set(), "receive": set()}
    for operation in doc.get("operations", {}).values():
        channel = doc["channels"][operation["channel"]["$ref"].rsplit("/", 1)[-1]]
        found[operation["action"]].add(channel["address"])
    return found["send"], found["receive"]


def _acl(user: str, resource: str, name: str, operation: str, pattern: str = "LITERAL") -> Acl:
    return {"principal": f"User:{user}", "resource": resource, "name": name, "pattern": pattern, "operation": operation}  # fmt: skip


def grants(namespace: str = "", group_prefix: str = "s8-") -> tuple[list[str], list[Acl]]:
    """The users and the ACLs for topics under `namespace` (test runs use their own)."""
    acls: list[Acl] = []
    users = [f"s8-{s}" for s in SERVICES] + sorted(u for u in EXTRA_WRITES if u not in {f"s8-{s}" for s in SERVICES})  # fmt: skip
    for service in SERVICES:
        user = f"s8-{service}"
        produced, consumed = topics_of(service)
        for topic in sorted(produced | set(EXTRA_WRITES.get(user, []))):
            acls += [_acl(user, "TOPIC", namespace + topic, op) for op in ("WRITE", "DESCRIBE")]
        for topic in sorted(consumed):
            acls += [_acl(user, "TOPIC", namespace + topic, op) for op in ("READ", "DESCRIBE")]
        # Its consumer groups: <prefix><service>.<topic>
        acls.append(_acl(user, "GROUP", f"{namespace}{group_prefix}{service}", "READ", "PREFIXED"))
    for user, topics in EXTRA_WRITES.items():
        if user.removeprefix("s8-") not in SERVICES:
            for topic in topics:
                acls += [_acl(user, "TOPIC", namespace + topic, op) for op in ("WRITE", "DESCRIBE")]
    return users, acls


def chart_acls() -> dict[str, list[dict[str, Any]]]:
    """The grants by user, one entry per resource with its operations, for the Helm chart:
    names as they are without a topic namespace and a consumer-group prefix (the chart adds
    both). Users, resources and operations in a stable order."""
    users, acls = grants(namespace="", group_prefix="")
    by_user: dict[str, dict[tuple[str, str, str], set[str]]] = {user: {} for user in users}
    for acl in acls:
        resource = (acl["resource"], acl["name"], acl["pattern"])
        by_user[acl["principal"].removeprefix("User:")].setdefault(resource, set()).add(acl["operation"])  # fmt: skip
    return {
        user: [
            {
                "resource": kind,
                "name": name,
                "pattern": pattern,
                "operations": sorted(operations, key=OPERATIONS.index),
            }
            for (kind, name, pattern), operations in sorted(resources.items())
        ]
        for user, resources in sorted(by_user.items())
    }


def chart_acls_text() -> str:
    """The content of CHART_ACLS."""
    return json.dumps(chart_acls(), indent=1) + "\n"


def apply(bootstrap: str, namespace: str = "", group_prefix: str = "s8-") -> str:
    users, acls = grants(namespace, group_prefix)
    spec: dict[str, Any] = {
        "users": [{"name": u, "password": PASSWORD} for u in users],
        "acls": acls,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(spec, file)
    try:
        done = subprocess.run(
            ["java", "-cp", str(REPO / ".local" / "lib" / "kafka" / "*"),
             str(REPO / "deploy" / "local" / "KafkaAccess.java"), bootstrap, file.name],
            capture_output=True, text=True, check=False, timeout=180,
        )  # fmt: skip
    finally:
        Path(file.name).unlink()
    if done.returncode != 0:
        raise RuntimeError(f"KafkaAccess failed: {done.stderr[-2000:]}")
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--bootstrap", default="127.0.0.1:9092", help="the PLAINTEXT listener")
    parser.add_argument("--namespace", default="", help="topic namespace (S8_TOPIC_NAMESPACE)")
    parser.add_argument("--group-prefix", default="s8-", help="S8_CONSUMER_GROUP_PREFIX")
    parser.add_argument(
        "--write-chart",
        action="store_true",
        help=f"write {CHART_ACLS.relative_to(REPO)} (for the Helm chart) instead of applying",
    )
    args = parser.parse_args()
    if args.write_chart:
        CHART_ACLS.parent.mkdir(parents=True, exist_ok=True)
        CHART_ACLS.write_text(chart_acls_text())
        print(f"wrote {CHART_ACLS.relative_to(REPO)}")
        return
    print(apply(args.bootstrap, args.namespace, args.group_prefix))


if __name__ == "__main__":
    main()
