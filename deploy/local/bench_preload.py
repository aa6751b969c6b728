"""History for `bench_pipeline.py`: N solved or closed tickets in every service's database, in
the shapes the services write (intake's ticket_store, message_store and customer_store, the
router's routing_store, the SLA monitor's clock_store, the survey_store, analytics' facts and
`s8_shared.projections`). A year of history ending two days ago, ~4 tickets per customer;
clocks stopped, routing finished, surveys sent: no periodic job has anything to do. Only
events of the last 34 days have `processed_events` ids (older ones are purged, 35 days).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import MongoClient

from s8_shared.contracts import MessageInfo, TicketSnapshot, deterministic_id

Doc = dict[str, Any]
BATCH = 1000
AGENTS = ("lan", "minh", "emily", "huy", "ha")
CHANNELS = ("email", "live_chat", "email", "social", "live_chat", "email", "phone", "sms")
# category, skill, team, customer text (vi), subject
TOPICS = (
    (
        "billing",
        "billing",
        "billing",
        "Tôi bị trừ tiền hai lần cho đơn #{o}, xin hoàn lại giúp.",
        "Trừ tiền hai lần",
    ),
    (
        "shipping",
        "shipping",
        "logistics",
        "Đơn hàng #{o} đã quá hạn giao 3 ngày mà chưa thấy đâu.",
        "Giao hàng chậm",
    ),
    (
        "technical",
        "technical",
        "technical",
        "Ứng dụng báo lỗi khi thanh toán đơn #{o}, không vào được.",
        "Lỗi ứng dụng",
    ),
    (
        "warranty",
        "warranty",
        "technical",
        "Máy lọc nước của đơn #{o} bị rò nước, cần bảo hành.",
        "Bảo hành",
    ),
    (
        "account",
        "account",
        "customer_care",
        "Tôi muốn đổi số điện thoại của tài khoản, đơn #{o}.",
        "Tài khoản",
    ),
)
KINDS = {"email": "email", "live_chat": "chat", "social": "email", "phone": "phone", "sms": "email"}
REPLY = "Dạ em đã kiểm tra, yêu cầu của anh/chị đã được xử lý xong ạ."


def _id(prefix: str, *parts: object) -> str:
    return prefix + deterministic_id("bench", *parts).hex[:16]


class Writer:
    """insert_many in batches of 1000 per collection (ordered=False)."""

    def __init__(self, client: MongoClient[Doc], db_prefix: str) -> None:
        self.client, self.prefix = client, db_prefix
        self.buffers: dict[tuple[str, str], list[Doc]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, service: str, collection: str, doc: Doc) -> None:
        buffer = self.buffers[(service, collection)]
        buffer.append(doc)
        if len(buffer) >= BATCH:
            self.flush(service, collection)

    def flush(self, service: str, collection: str) -> None:
        buffer = self.buffers.pop((service, collection), [])
        if buffer:
            db = self.client[f"{self.prefix}{service}"]
            db[collection].insert_many(buffer, ordered=False)
            self.counts[f"{service}.{collection}"] += len(buffer)

    def close(self) -> None:
        for service, collection in list(self.buffers):
            self.flush(service, collection)


def preload(mongo_uri: str, db_prefix: str, tickets: int, customers: int = 0) -> dict[str, int]:
    """Writes the history into `<db_prefix>s8_<service>`; returns documents per collection."""
    customers = customers or max(1, min(tickets, round(tickets / 4)))
    now = datetime.now(UTC).replace(microsecond=0)
    start, span = now - timedelta(days=365), timedelta(days=363)
    client: MongoClient[Doc] = MongoClient(mongo_uri, tz_aware=True)
    out = Writer(client, db_prefix)
    try:

        def when(i: int) -> datetime:
            return start + span * i / tickets

        for c in range(customers):
            _customer(
                out, c, [(_id("T-", "ticket", i), when(i)) for i in range(c, tickets, customers)]
            )
        for i in range(tickets):
            _ticket(out, i, i % customers, when(i), now)
        out.close()
    finally:
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
    cid, since, first = _id("C-", "customer", c), own[0][1], own[0][0]
    vi = c % 7 != 0
    out.add(
        "s8_intake",
        "customers",
        {
            "_id": cid,
            "created_at": since,
            "tier": "vip" if c % 20 == 0 else "standard",
            "merged_into": None,
            "name": f"Nguyễn Văn Khách {c}" if vi else f"Customer {c}",
            "language": "vi" if vi else "en",
            "region": "Hà Nội" if c % 2 else "TP. Hồ Chí Minh",
        },
    )
    for kind, value in set(_contacts(c).values()):
        out.add(
            "s8_intake",
            "identities",
            {
                "_id": f"{kind}:{value}",
                "kind": kind,
                "value": value,
                "customer_id": cid,
                "since": since,
            },
        )
    last_at = own[-1][1] + timedelta(days=1)
    out.add("s8_router", "customer_agents", {"_id": cid, "agent_id": AGENTS[c % 5], "at": last_at})
    nps_id = "N-" + deterministic_id("nps", cid, first).hex[:16]
    nps_at = since + timedelta(days=1)
    survey = {
        "_id": nps_id,
        "kind": "nps",
        "ticket_id": first,
        "customer_id": cid,
        "channel": "email",
        "to": _contacts(c)["email"][1],
        "language": "vi" if vi else "en",
        "state": "sent",
        "send_at": nps_at,
        "expires_at": nps_at + timedelta(days=14),
        "revision": 0,
        "sent_at": nps_at,
    }
    out.add("s8_survey", "surveys", survey)
    out.add(
        "s8_analytics",
        "survey_facts",
        {"_id": nps_id, "kind": "nps", "ticket_id": first, "customer_id": cid, "sent_at": nps_at},
    )
    out.add(
        "s8_survey",
        "survey_customers",
        {
            "_id": cid,
            "solved_tickets": [t for t, _ in own],
            "last_csat_at": last_at,
            "last_nps_at": nps_at,
        },
    )


def _ticket(out: Writer, i: int, c: int, created: datetime, now: datetime) -> None:
    tid, cid = _id("T-", "ticket", i), _id("C-", "customer", c)
    channel = CHANNELS[i % len(CHANNELS)]
    category, skill, team, text, subject = TOPICS[i % len(TOPICS)]
    text = text.format(o=f"A{100000 + i}")
    contact = _contacts(c)[channel][1]
    replied = created + timedelta(minutes=5 + i % 55)
    solved = replied + timedelta(hours=1 + i % 23)
    closed = solved + timedelta(days=4)
    status = "closed" if closed < now else "solved"
    done_at = closed if status == "closed" else solved
    priority = ("normal", "normal", "high", "normal", "low", "urgent")[i % 6]
    language = "en" if c % 7 == 0 else "vi"
    dedup = f"{channel}:" + (
        f"<p{i}.{tid[2:]}@mail.example.vn>" if channel == "email" else f"p{i}-{tid[2:]}"
    )
    reply_id, solve_id, close_id = (f"action:{_id('', 'action', i, n)}" for n in range(3))
    snap = TicketSnapshot(
        ticket_id=tid,
        version=5 if status == "closed" else 4,
        customer_id=cid,
        channel=channel,
        status=status,
        priority=priority,
        category=category,
        required_skills=[skill],
        language=language,
        customer_tier="vip" if c % 20 == 0 else "standard",
        sentiment=-0.3 if i % 4 == 0 else 0.0,
        subject=subject if channel == "email" else None,
        team=team,
        tier_required="L2" if priority == "urgent" or c % 20 == 0 else "L1",
        classified_by={f: f"kw-{category}" for f in ("category", "skills", "team")}
        | {"language": "detected", "priority": "default", "tier_required": "default"},
        contact_channel=channel,
        contact=contact,
        customer_messages=1,
        agent_replies=1,
        first_agent_reply_at=replied,
        last_customer_message_at=created,
        solved_at=solved,
        created_at=created,
        updated_at=done_at,
    ).model_dump(mode="python")
    snap.pop("ticket_id")
    conversation = {
        "live_chat": [f"live_chat:S-p{i}"],
        "social": [f"social:facebook:t-p{i}"],
        "phone": [f"phone:{contact}"],
        "sms": [f"sms:{contact}"],
    }.get(channel, [])
    applied = [dedup, reply_id, solve_id] + ([close_id] if status == "closed" else [])
    out.add(
        "s8_intake",
        "tickets",
        {
            "_id": tid,
            **snap,
            "conversation_keys": conversation,
            "email_message_ids": [dedup.split(":", 1)[1]] if channel == "email" else [],
            "reply_channel": channel,
            "reply_address": contact,
            "priority_locked": False,
            "applied": applied,
            "outbox": [],
            "has_outbox": False,
        },
    )
    customer_message = MessageInfo(
        message_id=dedup,
        author="customer",
        author_id=contact,
        channel=channel,
        text=text,
        sent_at=created,
        sentiment=snap["sentiment"],
    ).model_dump(mode="python")
    customer_message.update(
        _id=customer_message.pop("message_id"),
        ticket_id=tid,
        threading="new",
        linked_ticket_id=None,
        state="applied",
        raw_json="{}",
        details_json="{}",
    )
    agent_message = MessageInfo(
        message_id=reply_id,
        author="agent",
        author_id=AGENTS[i % 5],
        channel=channel,
        text=REPLY,
        sent_at=replied,
    ).model_dump(mode="python")
    agent_message.update(_id=agent_message.pop("message_id"), ticket_id=tid, state="applied")
    out.add("s8_intake", "messages", customer_message)
    out.add("s8_intake", "messages", agent_message)
    agent = AGENTS[i % 5]
    route = {
        "ticket_id": tid,
        "priority": priority,
        "channel_kind": KINDS[channel],
        "required_skills": [skill],
        "language": language,
        "tier_required": snap["tier_required"],
        "customer_tier": snap["customer_tier"],
        "region": None,
        "waiting_since": created,
        "previous_agent_id": None,
        "previous_agent_at": None,
    }
    out.add(
        "s8_router",
        "routing",
        {
            "_id": tid,
            "state": status,
            "agent_id": None,
            "seq": 1,
            "answered": True,
            "excluded": [],
            "customer_id": cid,
            "version": snap["version"],
            "route": route,
            "assigned_at": created + timedelta(seconds=2),
            "offer_expires_at": None,
            "reason": "least_loaded",
            "eligible": list(AGENTS),
            "rejected": {"tuan": "tier", "khoa": "tier"},
            "event_type": "ticket.assigned",
            "previous_agent_id": None,
            "announced_seq": 1,
        },
    )
    projection = {"_id": tid, **snap, "last_event": "ticket.status_changed"}
    out.add("s8_sla_monitor", "tickets", projection)
    out.add("s8_analytics", "tickets", projection)
    for target, stopped, seconds in (
        ("first_response", replied, 3600),
        ("resolution", solved, 172800),
    ):
        clock_id = f"{tid}/{target}/1"
        out.add(
            "s8_sla_monitor",
            "clocks",
            {
                "_id": clock_id,
                "ticket_id": tid,
                "target": target,
                "cycle": 1,
                "policy_id": "standard",
                "calendar_id": "24x7",
                "target_seconds": seconds,
                "warn_at": 0.8,
                "pause_on": ["on_hold", "pending"] if target == "resolution" else [],
                "priority": priority,
                "channel": channel,
                "started_at": created,
                "state": "met",
                "elapsed_before": (stopped - created).total_seconds(),
                "running_since": None,
                "warned": False,
                "breached": False,
                "stopped_at": stopped,
                "next_fire_at": None,
                "lease_until": None,
                "rev": 2,
            },
        )
        out.add(
            "s8_analytics",
            "sla_facts",
            {
                "_id": clock_id,
                "ticket_id": tid,
                "target": target,
                "finished": True,
                "cancelled": False,
                "finished_at": stopped,
            },
        )
    out.add(
        "s8_analytics",
        "ticket_agents",
        {
            "_id": tid,
            "transfers": 0,
            "first_assigned_at": created + timedelta(seconds=2),
            "agent_id": agent,
            "agent_at": created + timedelta(seconds=2),
            "counted": True,
            "first_reply_seen": True,
        },
    )
    events = ["ticket.created", "ticket.message_added", "ticket.status_changed"]
    if i % 2 == 0:  # a CSAT survey, answered for one in three
        survey_id = "S-" + deterministic_id("csat", tid).hex[:16]
        sent = solved + timedelta(minutes=30)
        survey: Doc = {
            "_id": survey_id,
            "kind": "csat",
            "ticket_id": tid,
            "customer_id": cid,
            "channel": channel,
            "to": contact,
            "language": language,
            "state": "sent",
            "send_at": sent,
            "expires_at": sent + timedelta(days=14),
            "revision": 0,
            "sent_at": sent,
        }
        fact: Doc = {
            "_id": survey_id,
            "kind": "csat",
            "ticket_id": tid,
            "customer_id": cid,
            "sent_at": sent,
        }
        if i % 6 == 0:
            answer = {"score": 1 + i % 5, "revision": 1, "answered_at": sent + timedelta(hours=2)}
            survey.update(
                answer,
                state="answered",
                comment=None,
                comment_sentiment=None,
                updated_at=answer["answered_at"],
            )
            fact.update(answer)
        out.add("s8_survey", "surveys", survey)
        out.add("s8_analytics", "survey_facts", fact)
        events += ["survey.requested"] + (["survey.responded"] if i % 6 == 0 else [])
    if done_at > now - timedelta(days=34):
        _processed(out, tid, events, done_at)


def _processed(out: Writer, tid: str, events: list[str], at: datetime) -> None:
    """The event ids each consumer remembered (`s8_shared.mongo.ProcessedEvents`)."""
    ticket_events = [e for e in events if e.startswith("ticket.")] + ["ticket.status_changed"]
    sla = ["sla.clock_started", "sla.clock_started", "sla.met", "sla.met"]
    surveys = [e for e in events if e.startswith("survey.")]
    for service, types in (
        ("s8_intake", surveys),
        ("s8_router", ticket_events + sla),
        ("s8_sla_monitor", ticket_events),
        ("s8_survey", ticket_events + surveys),
        ("s8_analytics", [*ticket_events, *sla, "ticket.assigned", *surveys]),
    ):
        for n, kind in enumerate(types):
            out.add(
                service,
                "processed_events",
                {
                    "_id": str(deterministic_id("bench-event", tid, n, kind)),
                    "processed_at": at,
                    "type": kind,
                },
            )
