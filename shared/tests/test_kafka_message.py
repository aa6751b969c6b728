from typing import Any

import anyio.to_thread
import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from s8_shared.kafka.message import KafkaMessage


async def test_handlers_get_the_message_without_a_worker_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_threads(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a worker thread was used to inject the message")

    monkeypatch.setattr(anyio.to_thread, "run_sync", no_threads)
    broker = KafkaBroker()
    seen: list[bytes] = []

    @broker.subscriber("s8.test.message")
    async def handler(msg: KafkaMessage) -> None:
        seen.append(msg.body)

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(b"not json at all", "s8.test.message")
    assert seen == [b"not json at all"]
