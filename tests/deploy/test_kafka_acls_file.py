"""The chart's files/kafka-acls.json is what deploy/local/kafka_access.py derives now from the
services' AsyncAPI documents: a service that starts producing or consuming a topic changes the
grants, and this fails until the file is written again (`kafka_access.py --write-chart`)."""

from kafka_access import CHART_ACLS, chart_acls, chart_acls_text, grants  # deploy/local


def test_the_committed_acl_file_is_the_generated_one() -> None:
    assert CHART_ACLS.read_text(encoding="utf-8") == chart_acls_text(), (
        "files/kafka-acls.json is stale: run .venv/bin/python deploy/local/kafka_access.py --write-chart"
    )


def test_the_file_holds_every_grant_of_the_local_broker_and_no_other() -> None:
    """Grouped by user and resource, but the same ACLs the local broker gets (without a topic
    namespace and a group prefix: the chart adds both)."""
    users, acls = grants(namespace="", group_prefix="")
    by_user = chart_acls()
    assert sorted(by_user) == sorted(users)
    flat = {
        (f"User:{user}", entry["resource"], entry["name"], entry["pattern"], operation)
        for user, entries in by_user.items()
        for entry in entries
        for operation in entry["operations"]
    }
    expected = {(a["principal"], a["resource"], a["name"], a["pattern"], a["operation"]) for a in acls}  # fmt: skip
    assert flat == expected
    for entries in by_user.values():
        resources = [(e["resource"], e["name"], e["pattern"]) for e in entries]
        assert resources == sorted(set(resources)), "one entry per resource, in order"


def test_each_service_reads_its_own_consumer_groups_and_the_router_writes_what_it_produces() -> (
    None
):
    by_user = chart_acls()
    for service in ("intake", "router", "sla-monitor", "survey", "analytics", "desk", "channels"):
        assert {"resource": "GROUP", "name": service, "pattern": "PREFIXED", "operations": ["READ"]} in by_user[f"s8-{service}"]  # fmt: skip
    router = {e["name"]: e["operations"] for e in by_user["s8-router"] if e["resource"] == "TOPIC"}
    assert "WRITE" in router["support.agents.v1"]
    assert "WRITE" in router["support.assignments.v1"]
    assert router["support.tickets.v1"] == ["READ", "DESCRIBE"]
    # The systems around s8 only write their one topic.
    assert by_user["s8-workforce"] == [
        {
            "resource": "TOPIC",
            "name": "support.agents.v1",
            "pattern": "LITERAL",
            "operations": ["WRITE", "DESCRIBE"],
        }
    ]
    channels = {
        e["name"]: e["operations"] for e in by_user["s8-channels"] if e["resource"] == "TOPIC"
    }
    assert channels == {
        "support.inbound.v1": ["WRITE", "DESCRIBE"],
        "support.customers.v1": ["WRITE", "DESCRIBE"],
        "support.outbound.v1": ["READ", "WRITE", "DESCRIBE"],
        "support.deadletter.v1": ["WRITE", "DESCRIBE"],
    }
    # The desk, a service now: it reads the topics of its read model and writes agents' actions.
    desk = {e["name"]: e["operations"] for e in by_user["s8-desk"] if e["resource"] == "TOPIC"}
    assert desk["support.actions.v1"] == ["WRITE", "DESCRIBE"]
    assert desk["support.tickets.v1"] == ["READ", "DESCRIBE"]
    assert [n for n, ops in desk.items() if "WRITE" in ops] == ["support.actions.v1", "support.deadletter.v1"]  # fmt: skip
