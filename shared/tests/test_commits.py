import asyncio
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from s8_shared.kafka.commits import OffsetCommits
from s8_testing.builders import consumer_record

TOPIC = "support.inbound.v1"


def record(partition: int, offset: int) -> ConsumerRecord[bytes, bytes]:
    return consumer_record(TOPIC, b"{}", partition=partition, offset=offset)


class Consumer:
    def __init__(self, partitions: int = 2) -> None:
        self.assigned = {TopicPartition(TOPIC, p) for p in range(partitions)}
        self.commits: list[dict[TopicPartition, int]] = []
        self.seeks: list[tuple[TopicPartition, int]] = []

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(dict(offsets))

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.seeks.append((partition, offset))

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)


def tp(partition: int) -> TopicPartition:
    return TopicPartition(TOPIC, partition)


async def test_one_commit_per_flush_names_the_next_offset_of_each_partition() -> None:
    commits, consumer = OffsetCommits(), Consumer()
    for offset in range(5):
        commits.settle(consumer, record(0, offset))
    commits.settle(consumer, record(1, 40))
    await commits.flush()
    assert consumer.commits == [{tp(0): 5, tp(1): 41}]
    await commits.flush()  # nothing new: no commit
    assert len(consumer.commits) == 1


async def test_a_dead_letters_record_is_committed_only_once_the_broker_has_it() -> None:
    commits, consumer = OffsetCommits(), Consumer()
    delivery: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    commits.settle(consumer, record(0, 1), delivery)
    flush = asyncio.create_task(commits.flush())
    await asyncio.sleep(0)
    assert consumer.commits == []  # waits for the delivery
    delivery.set_result("ok")
    await flush
    assert consumer.commits == [{tp(0): 2}]


async def test_a_refused_dead_letter_is_kept_and_its_offset_committed() -> None:
    commits, consumer = OffsetCommits(), Consumer()
    kept: list[BaseException] = []

    async def keep(error: BaseException) -> bool:
        kept.append(error)
        return True

    refused: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    refused.set_exception(KafkaError("refused"))
    commits.settle(consumer, record(0, 3), refused, keep)
    await commits.flush()
    assert [str(e) for e in kept] == ["KafkaError: refused"]
    assert consumer.commits == [{tp(0): 4}]


async def test_a_dead_letter_neither_published_nor_kept_is_read_again() -> None:
    commits, consumer = OffsetCommits(), Consumer()

    async def cannot_keep(error: BaseException) -> bool:
        raise ConnectionError("store down too")

    refused: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    refused.set_exception(KafkaError("refused"))
    commits.settle(consumer, record(0, 1))
    commits.settle(consumer, record(0, 2), refused, cannot_keep)
    commits.settle(consumer, record(0, 3))  # handled, but behind the unsettled one
    commits.settle(consumer, record(1, 9))
    await commits.flush()
    assert consumer.seeks == [(tp(0), 2)]
    assert consumer.commits == [{tp(0): 2, tp(1): 10}]


async def test_a_partition_revoked_before_the_flush_is_not_committed() -> None:
    commits, consumer = OffsetCommits(), Consumer()
    commits.settle(consumer, record(0, 1))
    commits.settle(consumer, record(1, 1))
    consumer.assigned.discard(tp(1))
    await commits.flush()
    assert consumer.commits == [{tp(0): 2}]


async def test_a_failed_commit_is_logged_not_raised_and_the_batch_is_not_repeated() -> None:
    class Failing(Consumer):
        async def commit(self, offsets: dict[TopicPartition, int]) -> None:
            raise KafkaError("rebalancing")

    commits, consumer = OffsetCommits(), Failing()
    commits.settle(consumer, record(0, 1))
    await commits.flush()
    assert commits.waiting() == 0


def test_a_flush_is_due_when_max_pending_records_wait() -> None:
    commits, consumer = OffsetCommits(max_pending=3), Consumer()
    assert not commits.settle(consumer, record(0, 1))
    assert not commits.settle(consumer, record(0, 2))
    assert commits.settle(consumer, record(0, 3))
    assert commits.waiting() == 3
