"""History for `bench_pipeline.py`: N solved or closed tickets in every service's database, in
the shapes the services write them (intake's ticket_store, message_store and customer_store,
the router's routing_store, the SLA monitor's clock_store, survey_store, analytics' facts,
`s8_shared.projections` and `s8_shared.mongo.ProcessedEvents`), checked against documents
the services wrote themselves. A year of history ending two days ago, ~4 tickets per
customer; clocks stopped (`next_fire_at` None), routing finished, surveys sent or answered:
no periodic job has anything to do with them. Only events of the last 34 days have
`processed_events` ids (older ones would be purged at start: 35 days retention).

Each service's own indexes are created first (its runtime's specs, as at its start: a store that
has been running has them), then the documents are written with insert_many in batches of 1000
(ordered=False), one thread per service database.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import MongoClient
from pymongo.errors import BulkWriteError, PyMongoError

from s8_analytics.app import build as analytics
from s8_analytics.settings import AnalyticsSettings
from s8_intake.app import build as intake
from s8_intake.settings import IntakeSettings
from s8_router.app import build as router
from s8_router.settings import RouterSettings
from s8_shared.contracts import MessageInfo, TicketSnapshot, deterministic_id
from s8_shared.runtime import ServiceRuntime
from s8_shared.settings import ServiceSettings
from s8_sla_monitor.app import build as sla_monitor
from s8_sla_monitor.settings import SlaMonitorSettings
from s8_survey.app import build as survey
from s8_survey.settings import SurveySettings

Doc = dict[str, Any]
BATCH = 1000
DUPLICATE_KEY = 11000
SERVICES = ("s8_intake", "s8_router", "s8_sla_monitor", "s8_survey", "s8_analytics")
AGENTS = ("lan", "minh", "emily", "huy", "ha")  # deploy/local/roster.py
CHANNELS = ("email", "live_chat", "email", "social", "live_chat", "email", "phone", "sms")
KINDS = {"email": "email", "live_chat": "chat", "social": "email", "phone": "phone", "sms": "email"}
TOPICS = (  # category (= skill), team, the customer's message, subject
    ("billing", "billing", "Tôi bị trừ tiền hai lần cho đơn #{o}, xin hoàn lại giúp.", "Trừ tiền hai lần"),
    ("shipping", "logistics", "Đơn hàng #{o} đã quá hạn giao 3 ngày mà chưa thấy đâu.", "Giao hàng chậm"),
    ("technical", "technical", "Ứng dụng báo lỗi khi thanh toán đơn #{o}, không vào được.", "Lỗi ứng dụng"),
    ("warranty", "technical", "Máy lọc nước của đơn #{o} bị rò nước, cần bảo hành.", "Bảo hành"),
    ("account", "customer_care", "Tôi muốn đổi số điện thoại của tài khoản, đơn #{o}.", "Tài khoản"),
)  # fmt: skip
REPLY = "Dạ em đã kiểm tra, yêu cầu của anh/chị đã được xử lý xong ạ."


def _id(prefix: str, *parts: object) -> str:
    return prefix + deterministic_id("bench", *parts).hex[:16]


def _insert_batch(col: Any, docs: list[Doc]) -> int:
    """Inserts a batch; documents already there (a resumed preload) are skipped, and a
    connection the store dropped (a long pause) is retried: the batch is idempotent."""
    for attempt in range(6):
        try:
            return len(col.insert_many(docs, ordered=False).inserted_ids)
        except BulkWriteError as exc:
            if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                raise
            return int(exc.details.get("nInserted", 0))
        except PyMongoError:
            if attempt == 5:
                raise
            time.sleep(5 * (attempt + 1))
    return 0


class Writer:
    """Batches of 1000 per collection, inserted by one thread per service database."""

    def __init__(self, client: MongoClient[Doc], db_prefix: str) -> None:
        self.buffers: dict[tuple[str, str], list[Doc]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)
        self.errors: list[BaseException] = []
        self.queues = {s: queue.Queue[tuple[str, list[Doc]] | None](maxsize=8) for s in SERVICES}
        self.threads = [
            threading.Thread(target=self._insert, args=(client[db_prefix + s], s), daemon=True)
            for s in SERVICES
        ]
        for thread in self.threads:
            thread.start()

    def _insert(self, db: Any, service: str) -> None:
        while (item := self.queues[service].get()) is not None:
            try:
                if not self.errors:
                    self.counts[f"{service}.{item[0]}"] += _insert_batch(db[item[0]], item[1])
            except BaseException as exc:  # reported by close(); keep draining the queue
                self.errors.append(exc)

    def add(self, service: str, collection: str, doc: Doc) -> None:
        buffer = self.buffers[(service, collection)]
        buffer.append(doc)
        if len(buffer) >= BATCH:
            self.queues[service].put((collection, self.buffers.pop((service, collection))))
        if self.errors:
            raise RuntimeError(f"preload failed: {self.errors[0]!r}") from self.errors[0]

    def close(self) -> None:
        for (service, collection), buffer in self.buffers.items():
            self.queues[service].put((collection, buffer))
        self.buffers.clear()
        for q in self.queues.values():
            q.put(None)
        for thread in self.threads:
            thread.join()
        if self.errors:
            raise RuntimeError(f"preload failed: {self.errors[0]!r}") from self.errors[0]


async def create_indexes(mongo_uri: str, db_prefix: str) -> None:
    """The indexes each service creates at start, created by its own runtime."""
    apps: tuple[tuple[Any, type[ServiceSettings]], ...] = (
        (intake, IntakeSettings), (router, RouterSettings), (sla_monitor, SlaMonitorSettings),
        (survey, SurveySettings), (analytics, AnalyticsSettings),
    )  # fmt: skip
    for build, settings_cls in apps:
        database = db_prefix + settings_cls().service_name.replace("-", "_")
        runtime: ServiceRuntime = build(settings_cls(mongo_uri=mongo_uri, mongo_database=database))[
            0
        ]
        await runtime.store.ensure_indexes(runtime.indexes)
        await runtime.store.close()


def _resume_points(client: MongoClient[Doc], db_prefix: str) -> tuple[int, int]:
    """Customers and tickets surely complete in every service's database (a margin back
    from the least advanced one: its writer threads ran ahead of each other)."""

    def count(service: str, collection: str) -> int:
        return int(client[db_prefix + service][collection].estimated_document_count())

    customers = min(count("s8_intake", "customers"), count("s8_router", "customer_agents"), count("s8_survey", "survey_customers"))  # fmt: skip
    tickets = min(count(s, c) for s, c in (("s8_intake", "tickets"), ("s8_router", "routing"), ("s8_sla_monitor", "tickets"), ("s8_analytics", "tickets")))  # fmt: skip
    return max(0, customers - 2 * BATCH), max(0, tickets - 3 * BATCH)


def preload(
    mongo_uri: str, db_prefix: str, tickets: int, *, resume: bool = False
) -> dict[str, int]:
    """Writes the history into `<db_prefix>s8_<service>`; returns documents per collection.
    With `resume`, continues a preload that stopped (what is there is skipped)."""
    asyncio.run(create_indexes(mongo_uri, db_prefix))
    customers = max(1, round(tickets / 4))
    now = datetime.now(UTC).replace(microsecond=0)
    start, span = now - timedelta(days=365), timedelta(days=363)
    client: MongoClient[Doc] = MongoClient(
        mongo_uri, tz_aware=True, serverSelectionTimeoutMS=10_000, socketTimeoutMS=300_000
    )
    first_customer, first_ticket = _resume_points(client, db_prefix) if resume else (0, 0)
    out = Writer(client, db_prefix)
    try:
        for c in range(first_customer, customers):
            own = [(_id("T-", "ticket", i), start + span * i / tickets) for i in range(c, tickets, customers)]  # fmt: skip
            _customer(out, c, own)
        for i in range(first_ticket, tickets):
            _ticket(out, i, i % customers, start + span * i / tickets, now)
    finally:
        out.close()
        client.close()
    return dict(out.counts)


def _contacts(c: int) -> dict[str, tuple[str, str]]:
    """Channel → (identity kind, value) of preloaded customer `c`."""
    phone = f"+8490{c:07d}"
    return {
        "email": ("email", f"kh{c:06d}@example.vn"),
        "live_chat": ("chat_visitor", f"visitor-p{c}"),
        "social": ("facebook", f"fb{c:010d}"),
        "phone": ("phone", phone),
        "sms": ("phone", phone),
    }


def _customer(out: Writer, c: int, own: list[tuple[str, datetime]]) -> None:
    """The customer, their identities, sticky agent, NPS survey and survey history."""
    cid, (first, since) = _id("C-", "customer", c), own[0]
    language = "en" if c % 7 == 0 else "vi"
    out.add("s8_intake", "customers", {
        "_id": cid, "created_at": since, "tier": "vip" if c % 20 == 0 else "standard",
        "merged_into": None, "name": f"Khách hàng {c}", "language": language,
        "region": "Hà Nội" if c % 2 else "TP. Hồ Chí Minh",
    })  # fmt: skip
    for kind, value in set(_contacts(c).values()):
        identity = {"_id": f"{kind}:{value}", "kind": kind, "value": value, "customer_id": cid}
        out.add("s8_intake", "identities", {**identity, "since": since})
    last_at = own[-1][1] + timedelta(days=1)
    out.add("s8_router", "customer_agents", {"_id": cid, "agent_id": AGENTS[c % 5], "at": last_at})
    nps_id, nps_at = "N-" + deterministic_id("nps", cid, first).hex[:16], since + timedelta(days=1)
    out.add("s8_survey", "surveys", {
        "_id": nps_id, "kind": "nps", "ticket_id": first, "customer_id": cid, "channel": "email",
        "to": _contacts(c)["email"][1], "language": language, "state": "sent", "send_at": nps_at,
        "expires_at": nps_at + timedelta(days=14), "revision": 0, "sent_at": nps_at,
    })  # fmt: skip
    nps_fact = {"_id": nps_id, "kind": "nps", "ticket_id": first, "customer_id": cid}
    out.add("s8_analytics", "survey_facts", {**nps_fact, "sent_at": nps_at})
    history = {"solved_tickets": [t for t, _ in own], "last_csat_at": last_at, "last_nps_at": nps_at}  # fmt: skip
    out.add("s8_survey", "survey_customers", {"_id": cid, **history})


def _ticket(out: Writer, i: int, c: int, created: datetime, now: datetime) -> None:
    tid, cid, agent = _id("T-", "ticket", i), _id("C-", "customer", c), AGENTS[i % 5]
    channel = CHANNELS[i % len(CHANNELS)]
    category, team, text, subject = TOPICS[i % len(TOPICS)]
    contact = _contacts(c)[channel][1]
    replied = created + timedelta(minutes=5 + i % 55)
    solved = replied + timedelta(hours=1 + i % 23)
    status = "closed" if solved + timedelta(days=4) < now else "solved"
    done_at = solved + timedelta(days=4) if status == "closed" else solved
    priority = ("normal", "normal", "high", "normal", "low", "urgent")[i % 6]
    language, tier = ("en" if c % 7 == 0 else "vi"), ("vip" if c % 20 == 0 else "standard")
    own_id = f"<p{i}.{tid[2:]}@mail.example.vn>" if channel == "email" else f"p{i}-{tid[2:]}"
    dedup = f"{channel}:{own_id}"
    reply_id, solve_id, close_id = (f"action:{_id('', 'action', i, n)}" for n in range(3))
    snap = TicketSnapshot(
        ticket_id=tid, version=5 if status == "closed" else 4, customer_id=cid, channel=channel,
        status=status, priority=priority, category=category, required_skills=[category],
        language=language, customer_tier=tier, sentiment=-0.3 if i % 4 == 0 else 0.0,
        subject=subject if channel == "email" else None, team=team,
        tier_required="L2" if priority == "urgent" or tier == "vip" else "L1",
        classified_by={"category": f"kw-{category}", "skills": f"kw-{category}", "team": f"kw-{category}",
                       "language": "detected", "priority": "default", "tier_required": "default"},
        contact_channel=channel, contact=contact, customer_messages=1, agent_replies=1,
        first_agent_reply_at=replied, last_customer_message_at=created, solved_at=solved,
        created_at=created, updated_at=done_at,
    ).model_dump(mode="python")  # fmt: skip
    snap.pop("ticket_id")
    keys = {"live_chat": f"live_chat:S-p{i}", "social": f"social:facebook:t-p{i}",
            "phone": f"phone:{contact}", "sms": f"sms:{contact}"}  # fmt: skip
    out.add("s8_intake", "tickets", {
        "_id": tid, **snap, "conversation_keys": [keys[channel]] if channel in keys else [],
        "email_message_ids": [own_id] if channel == "email" else [], "reply_channel": channel,
        "reply_address": contact, "priority_locked": False, "outbox": [], "has_outbox": False,
        "applied": [dedup, reply_id, solve_id] + ([close_id] if status == "closed" else []),
    })  # fmt: skip
    first = MessageInfo(message_id=dedup, author="customer", author_id=contact, channel=channel,
                        text=text.format(o=f"A{100000 + i}"), sent_at=created, sentiment=snap["sentiment"])  # fmt: skip
    out.add("s8_intake", "messages", {
        "_id": dedup, **first.model_dump(mode="python", exclude={"message_id"}), "ticket_id": tid,
        "threading": "new", "linked_ticket_id": None, "state": "applied", "raw_json": "{}",
        "details_json": "{}",
    })  # fmt: skip
    reply = MessageInfo(message_id=reply_id, author="agent", author_id=agent, channel=channel, text=REPLY, sent_at=replied)  # fmt: skip
    out.add("s8_intake", "messages", {
        "_id": reply_id, **reply.model_dump(mode="python", exclude={"message_id"}),
        "ticket_id": tid, "state": "applied",
    })  # fmt: skip
    route = {
        "ticket_id": tid, "channel_kind": KINDS[channel], "priority": priority,
        "required_skills": [category], "language": language, "tier_required": snap["tier_required"],
        "region": None, "customer_tier": tier, "waiting_since": created,
        "previous_agent_id": None, "previous_agent_at": None,
    }  # fmt: skip
    assigned = created + timedelta(seconds=2)
    out.add("s8_router", "routing", {
        "_id": tid, "state": status, "agent_id": None, "seq": 1, "answered": True, "excluded": [],
        "customer_id": cid, "version": snap["version"], "route": route, "assigned_at": assigned,
        "offer_expires_at": None, "reason": "least_loaded", "eligible": list(AGENTS),
        "rejected": {"tuan": "tier", "khoa": "tier"}, "event_type": "ticket.assigned",
        "previous_agent_id": None, "announced_seq": 1,
    })  # fmt: skip
    for service in ("s8_sla_monitor", "s8_analytics"):  # s8_shared.projections.TicketProjection
        out.add(service, "tickets", {"_id": tid, **snap, "last_event": "ticket.status_changed"})
    for target, stopped, seconds in (("first_response", replied, 3600), ("resolution", solved, 172800)):  # fmt: skip
        clock_id = f"{tid}/{target}/1"
        out.add("s8_sla_monitor", "clocks", {
            "_id": clock_id, "ticket_id": tid, "target": target, "cycle": 1, "policy_id": "standard",
            "calendar_id": "24x7", "target_seconds": seconds, "warn_at": 0.8,
            "pause_on": ["on_hold", "pending"] if target == "resolution" else [],
            "priority": priority, "channel": channel, "started_at": created, "state": "met",
            "elapsed_before": (stopped - created).total_seconds(), "running_since": None,
            "warned": False, "breached": False, "stopped_at": stopped, "next_fire_at": None,
            "lease_until": None, "rev": 2,
        })  # fmt: skip
        fact = {"_id": clock_id, "ticket_id": tid, "target": target, "finished": True}
        out.add("s8_analytics", "sla_facts", {**fact, "cancelled": False, "finished_at": stopped})
    out.add("s8_analytics", "ticket_agents", {
        "_id": tid, "transfers": 0, "first_assigned_at": assigned, "agent_id": agent,
        "agent_at": assigned, "counted": True, "first_reply_seen": True,
    })  # fmt: skip
    events = ["ticket.created", "ticket.message_added", "ticket.status_changed"]
    if i % 2 == 0:  # a CSAT survey (the survey service's id), answered for one in three
        survey_id, sent = "S-" + deterministic_id("csat", tid).hex[:16], solved + timedelta(minutes=30)  # fmt: skip
        fact = {"_id": survey_id, "kind": "csat", "ticket_id": tid, "customer_id": cid, "sent_at": sent}  # fmt: skip
        survey = {**fact, "channel": channel, "to": contact, "language": language, "state": "sent",
                  "send_at": sent, "expires_at": sent + timedelta(days=14), "revision": 0}  # fmt: skip
        if i % 6 == 0:
            answer = {"score": 1 + i % 5, "revision": 1, "answered_at": sent + timedelta(hours=2)}
            fact.update(answer)
            survey.update(answer, state="answered", comment=None, comment_sentiment=None)
            survey["updated_at"] = answer["answered_at"]
        out.add("s8_survey", "surveys", survey)
        out.add("s8_analytics", "survey_facts", fact)
        events += ["survey.requested"] + (["survey.responded"] if i % 6 == 0 else [])
    if done_at > now - timedelta(days=34):
        _processed(out, tid, events, done_at)


def _processed(out: Writer, tid: str, events: list[str], at: datetime) -> None:
    """The event ids each consumer remembered (`s8_shared.mongo.ProcessedEvents`)."""
    ticket = [e for e in events if e.startswith("ticket.")] + ["ticket.status_changed"]
    sla = ["sla.clock_started", "sla.clock_started", "sla.met", "sla.met"]
    surveys = [e for e in events if e.startswith("survey.")]
    for service, types in (
        ("s8_intake", surveys),
        ("s8_router", ticket + sla),
        ("s8_sla_monitor", ticket),
        ("s8_survey", ticket + surveys),
        ("s8_analytics", [*ticket, *sla, "ticket.assigned", *surveys]),
    ):
        for n, kind in enumerate(types):
            event_id = str(deterministic_id("bench-event", tid, n, kind))
            out.add(
                service, "processed_events", {"_id": event_id, "processed_at": at, "type": kind}
            )
