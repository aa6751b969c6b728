"""Simulated agents for `make run`: each ticket the router gives an agent is answered and
usually solved by that agent through `support.actions.v1`, as an agent desktop would;
now and then an agent steps away, so re-routing shows too. Some solved tickets come with
a voucher or refund (within the agent's limits, or sent to a lead), and a simulated lead
approves or rejects what waits for approval."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

REPLIES = [
    "Chào anh/chị, em đã kiểm tra và đang xử lý yêu cầu của mình ạ.",
    "Dạ em đã chuyển thông tin cho bộ phận liên quan, sẽ phản hồi sớm nhất ạ.",
    "Em xin lỗi vì sự bất tiện, đơn hàng của mình đã được ưu tiên xử lý ạ.",
    "Hi, thanks for reaching out, I'm looking into this now.",
]
# What agents offer now and then before solving (VND): the small ones are within an L1
# agent's limits, the bigger ones need a lead.
OFFERS = [
    ("voucher", 100_000, "Xin lỗi vì giao hàng chậm."),
    ("voucher", 200_000, "Voucher xin lỗi vì sự bất tiện."),
    ("refund", 300_000, "Hoàn phí vận chuyển."),
    ("voucher", 500_000, "Bù cho đơn hàng giao thiếu."),
    ("refund", 800_000, "Hoàn tiền bị trừ hai lần."),
    ("refund", 1_200_000, "Hoàn tiền sản phẩm lỗi."),
    ("refund", 1_500_000, "Hoàn tiền đơn hàng bị hủy."),
]
PresenceSetter = Callable[[str, str], Awaitable[None]]
Call = Callable[[str, str, Any], Awaitable[Any]]  # (method, path, JSON body) -> JSON answer


@dataclass
class AgentStats:
    replies: int = 0
    solved: int = 0
    notes: int = 0
    offers: int = 0
    approved: int = 0
    rejected: int = 0
    handled: set[tuple[str, str]] = field(default_factory=set)


async def simulate_agents(
    bootstrap: str,
    namespace: str,
    stop: asyncio.Event,
    stats: AgentStats,
    set_presence: PresenceSetter | None = None,
    *,
    seed: int | None = None,
) -> None:
    rng = random.Random(seed)
    consumer = AIOKafkaConsumer(
        f"{namespace}support.assignments.v1",
        bootstrap_servers=bootstrap,
        group_id=f"{namespace}s8-demo-agents",
        auto_offset_reset="latest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await consumer.start()
    await producer.start()
    tasks: set[asyncio.Task[None]] = set()

    async def send(ticket_id: str, agent_id: str, action: dict[str, object]) -> None:
        body = {
            "action_id": uuid.uuid4().hex,
            "ticket_id": ticket_id,
            "actor_id": agent_id,
            **action,
        }
        await producer.send_and_wait(
            f"{namespace}support.actions.v1",
            json.dumps(body, ensure_ascii=False).encode(),
            key=ticket_id.encode(),
        )

    async def work(ticket_id: str, agent_id: str) -> None:
        await asyncio.sleep(rng.uniform(3, 25))  # some answers come late: SLA warnings show
        if rng.random() < 0.15:
            await send(
                ticket_id,
                agent_id,
                {"kind": "note", "text": "Kiểm tra lịch sử đơn hàng trước khi trả lời."},
            )
            stats.notes += 1
        await send(ticket_id, agent_id, {"kind": "reply", "text": rng.choice(REPLIES)})
        stats.replies += 1
        await asyncio.sleep(rng.uniform(3, 12))
        if rng.random() < 0.8:
            if rng.random() < 0.1:
                kind, amount, reason = rng.choice(OFFERS)
                await send(
                    ticket_id,
                    agent_id,
                    {
                        "kind": "offer_compensation",
                        "compensation": kind,
                        "amount": amount,
                        "reason": reason,
                    },
                )
                stats.offers += 1
            await send(ticket_id, agent_id, {"kind": "set_status", "status": "solved"})
            stats.solved += 1

    async def step_away() -> None:
        while set_presence is not None and not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=rng.uniform(25, 40))
            if stop.is_set():
                return
            who = rng.choice(["lan", "minh", "emily"])
            await set_presence(who, "offline")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=10)
            await set_presence(who, "online")

    away = asyncio.create_task(step_away())
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    event = json.loads(record.value)
                    payload = event.get("payload") or {}
                    agent_id = payload.get("agent_id")
                    if (
                        event.get("type")
                        not in ("ticket.assigned", "ticket.reassigned", "ticket.escalated")
                        or not agent_id
                    ):
                        continue
                    key = (payload["ticket_id"], agent_id)
                    if key in stats.handled:
                        continue
                    stats.handled.add(key)
                    task = asyncio.create_task(work(payload["ticket_id"], agent_id))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
    finally:
        away.cancel()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(away, *tasks, return_exceptions=True)
        await consumer.stop()
        await producer.stop()


async def simulate_lead(
    lead_id: str,
    stop: asyncio.Event,
    intake: Call,
    stats: AgentStats,
    *,
    every: float = 10.0,
    seed: int | None = None,
) -> None:
    """A lead who looks at the offers waiting for approval every `every` seconds and
    approves most of them, rejecting a few (big refunds more often)."""
    rng = random.Random(seed)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        if stop.is_set():
            return
        try:
            pending = await intake("GET", "/v1/approvals?status=pending_approval", None)
        except OSError:  # intake busy or stopping: look again next round
            continue
        for offer in pending:
            if offer["agent_id"] == lead_id:
                continue  # a lead may not approve their own offer
            reject = rng.random() < (0.3 if offer["amount"] >= 1_000_000 else 0.1)
            decision = {
                "approver_id": lead_id,
                "decision": "reject" if reject else "approve",
                "reason": "Đề nghị voucher nhỏ hơn."
                if reject
                else "Đồng ý, khách hàng thân thiết.",
            }
            try:
                await intake("POST", f"/v1/approvals/{offer['offer_id']}", decision)
            except OSError:  # refused (decided meanwhile, above the limit) or intake stopping
                continue
            if reject:
                stats.rejected += 1
            else:
                stats.approved += 1


Answer = Callable[[str, int, str | None], Awaitable[None]]
COMMENTS = {
    5: "Nhân viên hỗ trợ rất nhiệt tình!",
    4: "Ổn, cảm ơn shop.",
    2: "Chờ lâu quá.",
    1: "Không giải quyết được vấn đề.",
}


async def simulate_customers(
    bootstrap: str, namespace: str, stop: asyncio.Event, answer: Answer, *, seed: int | None = None
) -> None:
    """Customers who get a survey answer most of the time, mostly happily."""
    rng = random.Random(seed)
    consumer = AIOKafkaConsumer(
        f"{namespace}support.surveys.v1",
        bootstrap_servers=bootstrap,
        group_id=f"{namespace}s8-demo-customers",
        auto_offset_reset="latest",
    )
    await consumer.start()
    tasks: set[asyncio.Task[None]] = set()

    async def respond(survey_id: str, kind: str) -> None:
        await asyncio.sleep(rng.uniform(2, 10))
        if kind == "csat":
            score = rng.choices([5, 4, 3, 2, 1], [45, 30, 12, 8, 5])[0]
        else:
            score = rng.choices(range(11), [2, 1, 1, 2, 2, 3, 4, 8, 15, 25, 37])[0]
        await answer(survey_id, score, COMMENTS.get(score) if kind == "csat" else None)

    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    event = json.loads(record.value)
                    if event.get("type") != "survey.requested" or rng.random() > 0.7:
                        continue
                    task = asyncio.create_task(
                        respond(event["payload"]["survey_id"], event["payload"]["kind"])
                    )
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
    finally:
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await consumer.stop()
