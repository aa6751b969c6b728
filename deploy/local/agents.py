"""Simulated agents for `make run`: they answer and solve tickets through
`support.actions.v1`, as an agent desktop would, so the whole ticket lifecycle flows."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

REPLIES = {
    "vi": [
        "Chào anh/chị, em đã kiểm tra và đang xử lý yêu cầu của mình ạ.",
        "Dạ em đã chuyển thông tin cho bộ phận liên quan, sẽ phản hồi sớm nhất ạ.",
        "Em xin lỗi vì sự bất tiện, đơn hàng của mình đã được ưu tiên xử lý ạ.",
    ],
    "en": [
        "Hi, thanks for reaching out, I'm looking into this now.",
        "Sorry for the trouble, I've escalated this and will update you shortly.",
    ],
}


@dataclass
class AgentStats:
    replies: int = 0
    solved: int = 0
    notes: int = 0
    seen: set[str] = field(default_factory=set)


async def simulate_agents(
    bootstrap: str,
    namespace: str,
    stop: asyncio.Event,
    stats: AgentStats,
    *,
    seed: int | None = None,
) -> None:
    rng = random.Random(seed)
    consumer = AIOKafkaConsumer(
        f"{namespace}support.tickets.v1",
        bootstrap_servers=bootstrap,
        group_id=f"{namespace}s8-demo-agents",
        auto_offset_reset="latest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await consumer.start()
    await producer.start()
    pending: list[asyncio.Task[None]] = []

    async def send(ticket_id: str, action: dict[str, object]) -> None:
        body = {
            "action_id": uuid.uuid4().hex,
            "ticket_id": ticket_id,
            "actor_id": f"agent-{rng.randint(1, 6)}",
            **action,
        }
        await producer.send_and_wait(
            f"{namespace}support.actions.v1",
            json.dumps(body, ensure_ascii=False).encode(),
            key=ticket_id.encode(),
        )

    async def handle(ticket_id: str, language: str, deflected: bool) -> None:
        await asyncio.sleep(rng.uniform(2, 8))
        if deflected and rng.random() < 0.7:
            return  # the FAQ answer was enough
        if rng.random() < 0.15:
            await send(
                ticket_id, {"kind": "note", "text": "Kiểm tra lịch sử đơn hàng trước khi trả lời."}
            )
            stats.notes += 1
        await send(
            ticket_id, {"kind": "reply", "text": rng.choice(REPLIES.get(language, REPLIES["en"]))}
        )
        stats.replies += 1
        await asyncio.sleep(rng.uniform(2, 8))
        if rng.random() < 0.75:
            await send(ticket_id, {"kind": "set_status", "status": "solved"})
            stats.solved += 1

    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    event = json.loads(record.value)
                    if event.get("type") != "ticket.created":
                        continue
                    ticket = event["payload"]["ticket"]
                    if ticket["ticket_id"] in stats.seen:
                        continue
                    stats.seen.add(ticket["ticket_id"])
                    pending.append(
                        asyncio.create_task(
                            handle(ticket["ticket_id"], ticket["language"], ticket["deflected"])
                        )
                    )
            pending = [t for t in pending if not t.done()]
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await consumer.stop()
        await producer.stop()
