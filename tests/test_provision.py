"""Topic provisioning on the real broker."""

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from s8_shared.kafka.provision import delete_namespace, provision_topics
from s8_shared.topics import AGENTS, ALL_TOPICS
from s8_testing.harness import eventually
from s8_testing.infra import Infra

pytestmark = pytest.mark.integration


async def test_provisioning_creates_every_declared_topic_once_even_when_replicas_race(
    infra: Infra,
) -> None:
    namespace = f"prov{uuid.uuid4().hex[:8]}."
    results = await asyncio.gather(
        *(provision_topics(infra.kafka_bootstrap_servers, namespace=namespace) for _ in range(3))
    )
    created = [name for result in results for name in result]
    assert sorted(created) == sorted(spec.name(namespace) for spec in ALL_TOPICS)
    assert await provision_topics(infra.kafka_bootstrap_servers, namespace=namespace) == []

    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap_servers)
    await admin.start()
    try:

        async def partitions() -> int:
            [description] = await admin.describe_topics([AGENTS.name(namespace)])
            return len(description["partitions"])

        # A topic just created may not show its partitions in the metadata yet.
        assert await eventually(lambda: _equals(partitions, AGENTS.partitions), what="the partitions") is True  # fmt: skip
        [configs] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, AGENTS.name(namespace))]
        )
        entries = {entry[0]: entry[1] for entry in configs.resources[0][4]}
        assert entries["cleanup.policy"] == "compact"
    finally:
        await admin.close()
        await delete_namespace(infra.kafka_bootstrap_servers, namespace)


async def test_an_invalid_topic_config_fails_loudly(infra: Infra) -> None:
    from s8_shared.topics import TopicSpec

    bad = TopicSpec("support.bad.v1", "bad", key="x", extra_config={"cleanup.policy": "shred"})
    namespace = f"bad{uuid.uuid4().hex[:8]}."
    with pytest.raises(RuntimeError, match="could not create topics"):
        await provision_topics(infra.kafka_bootstrap_servers, namespace=namespace, topics=(bad,))
    await delete_namespace(infra.kafka_bootstrap_servers, namespace)


async def _equals(check: Any, expected: object) -> bool:
    return bool(await check() == expected)
