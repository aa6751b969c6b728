"""Each service's own Kafka principal (SCRAM-SHA-512 on the broker's SASL listener) writes only
the topics it produces and reads only those it consumes (deploy/local/kafka_access.py)."""

import os
import sys
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import TopicAuthorizationFailedError

from s8_shared import topics
from s8_testing.harness import TestStack

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy/local"))

from kafka_access import PASSWORD, apply

pytestmark = pytest.mark.integration
TOPIC_AUTHORIZATION_FAILED = 29


def sasl_port(stack: TestStack) -> int:
    default = int(stack.infra.kafka_bootstrap_servers.rsplit(":", 1)[1]) + 2
    return int(os.environ.get("S8_KAFKA_SASL_PORT", default))


def producer(stack: TestStack, user: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=f"127.0.0.1:{sasl_port(stack)}", security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512", sasl_plain_username=user, sasl_plain_password=PASSWORD,
        request_timeout_ms=10_000,
    )  # fmt: skip


async def test_a_service_writes_its_own_topics_and_is_refused_on_another_s(
    stack: TestStack,
) -> None:
    apply(stack.infra.kafka_bootstrap_servers, namespace=stack.namespace)
    router = producer(stack, "s8-router")
    await router.start()
    try:
        await router.send_and_wait(stack.topic(topics.ASSIGNMENTS), b"{}", key=b"T-1")  # its own
        with pytest.raises(TopicAuthorizationFailedError):
            await router.send_and_wait(stack.topic(topics.TICKETS), b"{}", key=b"T-1")  # intake's
    finally:
        await router.stop()
    channel = producer(stack, "s8-channels")
    await channel.start()
    try:
        await channel.send_and_wait(stack.topic(topics.INBOUND), b"{}", key=b"email:x")
        with pytest.raises(TopicAuthorizationFailedError):
            await channel.send_and_wait(stack.topic(topics.AGENTS), b"{}", key=b"mallory")
    finally:
        await channel.stop()


async def test_a_service_sees_only_the_topics_it_uses(stack: TestStack) -> None:
    apply(stack.infra.kafka_bootstrap_servers, namespace=stack.namespace)
    admin = AIOKafkaAdminClient(
        bootstrap_servers=f"127.0.0.1:{sasl_port(stack)}", security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512", sasl_plain_username="s8-sla-monitor",
        sasl_plain_password=PASSWORD,
    )  # fmt: skip
    await admin.start()
    try:
        found = await admin.describe_topics([stack.topic(topics.TICKETS), stack.topic(topics.INBOUND)])  # fmt: skip
    finally:
        await admin.close()
    # It consumes tickets; customers' raw messages are intake's: TOPIC_AUTHORIZATION_FAILED (29).
    assert {t["topic"]: t["error_code"] for t in found} == {
        stack.topic(topics.TICKETS): 0,
        stack.topic(topics.INBOUND): TOPIC_AUTHORIZATION_FAILED,
    }
