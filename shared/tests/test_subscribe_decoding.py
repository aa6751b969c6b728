import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from pydantic import BaseModel

from s8_shared import topics
from s8_shared.contracts import InvalidMessage
from s8_shared.kafka.broker import subscribe
from s8_shared.settings import ServiceSettings

SETTINGS = ServiceSettings(service_name="s8-test")


class Upsert(BaseModel):
    upsert_id: str
    tier: str


async def test_a_plain_handler_gets_the_records_bytes_undecoded() -> None:
    broker = KafkaBroker()
    seen: list[bytes] = []

    @subscribe(broker, SETTINGS, topics.CUSTOMERS)
    async def handler(body: bytes) -> None:
        seen.append(body)

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(b'{"upsert_id": "u1"}', topics.CUSTOMERS.name(""))
        await test_broker.publish(b"[1, 2]", topics.CUSTOMERS.name(""))
    assert seen == [b'{"upsert_id": "u1"}', b"[1, 2]"]


async def test_a_typed_handler_gets_its_model_from_a_bounded_json_object() -> None:
    broker = KafkaBroker()
    seen: list[Upsert] = []

    @subscribe(broker, SETTINGS, topics.CUSTOMERS, typed=True)
    async def handler(upsert: Upsert) -> None:
        seen.append(upsert)

    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(b'{"upsert_id": "u1", "tier": "vip"}', topics.CUSTOMERS.name(""))
        # Not a JSON object: s8's decoding says so (a dead letter), before any validation.
        with pytest.raises(InvalidMessage, match="not valid JSON: nested too deeply"):
            await test_broker.publish(b"[" * 100_000 + b"]" * 100_000, topics.CUSTOMERS.name(""))
    assert seen == [Upsert(upsert_id="u1", tier="vip")]
