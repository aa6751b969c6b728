import re

from s8_shared.topics import ALL_TOPICS, DEADLETTER, INBOUND, TICKETS


def test_topic_names_are_versioned_and_unique() -> None:
    names = [t.base_name for t in ALL_TOPICS]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"support\.[a-z]+\.v\d+", n) for n in names)


def test_the_platform_topics_exist() -> None:
    assert {t.base_name for t in ALL_TOPICS} >= {
        "support.inbound.v1",
        "support.tickets.v1",
        "support.actions.v1",
        "support.agents.v1",
        "support.assignments.v1",
        "support.sla.v1",
        "support.surveys.v1",
        "support.outbound.v1",
        "support.deadletter.v1",
    }


def test_namespace_prefixes_the_physical_name() -> None:
    assert TICKETS.name("t1.") == "t1.support.tickets.v1"
    assert INBOUND.name() == "support.inbound.v1"


def test_compacted_topics_keep_their_latest_value_forever() -> None:
    compacted = [t for t in ALL_TOPICS if t.compacted]
    assert compacted
    for topic in compacted:
        assert topic.config() == {"cleanup.policy": "compact", "retention.ms": "-1"}
    assert DEADLETTER.config()["cleanup.policy"] == "delete"
