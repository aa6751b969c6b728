"""Analytics on the real broker and store: a scripted day of support events, with
duplicated and reordered deliveries, gives exactly the expected KPIs."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from s8_analytics.app import build
from s8_analytics.domain.stats import age_bucket
from s8_analytics.settings import AnalyticsSettings
from s8_shared import topics
from s8_shared.contracts import Event
from s8_shared.contracts.assignments import (
    AssignmentPayload,
    TicketAssigned,
    TicketQueued,
    TicketReassigned,
)
from s8_shared.contracts.sla import SlaBreached, SlaMet, SlaPayload
from s8_shared.contracts.surveys import (
    SurveyRequested,
    SurveyRequestedPayload,
    SurveyResponded,
    SurveyRespondedPayload,
)
from s8_shared.contracts.tickets import (
    BotConversationHandled,
    BotConversationPayload,
    TicketStatusChanged,
    TicketStatusChangedPayload,
)
from s8_testing.builders import make_snapshot, make_ticket_created
from s8_testing.harness import TestStack, eventually

pytestmark = pytest.mark.integration

DAY = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội
# What "now" is for analytics in these tests: two days after the scripted day, so backlog ages
# and rolling windows do not depend on the date the suite runs.
NOW = DAY + timedelta(days=2)


def at(minutes: float) -> datetime:
    return DAY + timedelta(minutes=minutes)


def ticket(ticket_id: str, version: int, **fields: Any) -> Event[Any]:
    return make_ticket_created(
        ticket_id=ticket_id,
        customer_id=f"C-{ticket_id}",
        version=version,
        created_at=at(0),
        updated_at=at(0),
        **fields,
    ).model_copy(update={"occurred_at": at(0)})


def status(ticket_id: str, version: int, to: str, minute: float, frm: str) -> Event[Any]:
    snap = make_snapshot(
        ticket_id=ticket_id,
        customer_id=f"C-{ticket_id}",
        version=version,
        status=to,
        created_at=at(0),
        updated_at=at(minute),
    )
    return TicketStatusChanged(
        producer="t",
        occurred_at=at(minute),
        payload=TicketStatusChangedPayload(
            ticket_id=ticket_id, ticket=snap, from_status=frm, to_status=to
        ),
    )


def assigned(
    ticket_id: str, agent: str | None, minute: float, cls: Any = TicketAssigned
) -> Event[Any]:
    event: Event[Any] = cls(
        producer="t",
        occurred_at=at(minute),
        payload=AssignmentPayload(
            ticket_id=ticket_id,
            agent_id=agent,
            channel_kind="email",
            priority="normal",
            reason="least_loaded",
        ),
    )
    return event


def sla(ticket_id: str, cls: Any, target: str = "first_response") -> Event[Any]:
    event: Event[Any] = cls(
        producer="t",
        occurred_at=at(30),
        payload=SlaPayload(
            ticket_id=ticket_id,
            policy_id="p",
            target=target,
            clock_id=f"{ticket_id}/{target}/1",
            priority="normal",
            channel="email",
            calendar_id="24x7",
            target_seconds=600,
            elapsed_business_seconds=0,
            elapsed_calendar_seconds=0,
            remaining_business_seconds=0,
        ),
    )
    return event


def survey(ticket_id: str, kind: str, score: int | None, revision: int = 1) -> list[Event[Any]]:
    sid = f"{kind}-{ticket_id}"
    events: list[Event[Any]] = [
        SurveyRequested(
            producer="t",
            occurred_at=at(120),
            payload=SurveyRequestedPayload(
                survey_id=sid,
                kind=kind,
                ticket_id=ticket_id,
                customer_id=f"C-{ticket_id}",
                channel="email",
                language="vi",
                link="x",
                expires_at=at(9999),
            ),
        )
    ]
    if score is not None:
        events.append(
            SurveyResponded(
                producer="t",
                occurred_at=at(130),
                payload=SurveyRespondedPayload(
                    survey_id=sid,
                    kind=kind,
                    ticket_id=ticket_id,
                    customer_id=f"C-{ticket_id}",
                    channel="email",
                    score=score,
                    answered_at=at(130),
                    revision=revision,
                ),
            )
        )
    return events


async def test_a_scripted_day_gives_exactly_the_expected_kpis(stack: TestStack) -> None:
    # Three tickets: A solved after one reply (FCR), B solved after two replies and a reopen,
    # C still open. First replies after 10 (A) and 30 (B) minutes.
    a_solved = ticket(
        "A", 3, status="solved", agent_replies=1, first_agent_reply_at=at(10), solved_at=at(60)
    )
    b_solved = ticket(
        "B",
        5,
        status="solved",
        agent_replies=2,
        reopen_count=1,
        first_agent_reply_at=at(30),
        solved_at=at(90),
    )
    events: list[tuple[Any, Event[Any]]] = [
        (topics.TICKETS, a_solved),
        (topics.TICKETS, ticket("A", 1, status="new")),  # arrives after the newer snapshot
        (topics.TICKETS, b_solved),
        (topics.TICKETS, b_solved),  # redelivered
        (topics.TICKETS, ticket("C", 1, status="open")),
        (topics.ASSIGNMENTS, assigned("A", "lan", 2)),
        (topics.ASSIGNMENTS, assigned("B", "lan", 5)),
        (topics.ASSIGNMENTS, assigned("B", "huy", 40, TicketReassigned)),
        (topics.ASSIGNMENTS, assigned("B", "huy", 40, TicketReassigned)),  # redelivered
        (topics.TICKETS, status("B", 3, "pending", 50, "open")),  # waits on the customer 10 minutes
        (topics.TICKETS, status("B", 4, "open", 60, "pending")),
        (topics.ASSIGNMENTS, assigned("C", None, 1, TicketQueued)),
        (topics.ASSIGNMENTS, assigned("C", "emily", 20)),
        (topics.SLA, sla("A", SlaMet)),
        (topics.SLA, sla("B", SlaMet)),
        (topics.SLA, sla("B", SlaBreached)),  # breached before it was met late: reordered
        *[(topics.SURVEYS, e) for e in survey("A", "csat", 5)],
        *[(topics.SURVEYS, e) for e in survey("B", "csat", 2)],
        *[(topics.SURVEYS, e) for e in survey("B", "csat", 3, revision=2)],  # changed within grace
        *[(topics.SURVEYS, e) for e in survey("A", "nps", 10)],
        *[(topics.SURVEYS, e) for e in survey("C", "nps", 7)],
        *[(topics.SURVEYS, e) for e in survey("B", "nps", None)],
    ]
    runtime, app = build(stack.settings(AnalyticsSettings), clock=lambda: NOW)
    await runtime.start()
    try:
        for spec, event in events:
            await stack.send(spec, event.to_bytes(), key=event.partition_key())
        async with stack.client(app, "http://analytics") as http:
            query = {
                "from": "2026-11-24T00:00:00",
                "to": "2026-11-25T00:00:00",
                "tz": "Asia/Ho_Chi_Minh",
            }

            async def settled() -> dict[str, Any]:
                body: dict[str, Any] = (await http.get("/v1/kpis", params=query)).json()
                group = body["groups"].get("all", {})
                done = (
                    group.get("nps", {}).get("responses") == 2
                    and group.get("csat", {}).get("responses") == 2
                    # Every topic has been read: B's pause (tickets) and C's wait (assignments).
                    and group.get("aht_seconds", {}).get("median") == (58 * 60 + 75 * 60) / 2
                    and group.get("queue_seconds", {}).get("count") == 1
                )
                # B's late met and its reordered breach both applied: 1 met, 1 breached.
                first_response = group.get("sla_compliance", {}).get("first_response", {})
                complete = (first_response.get("met"), first_response.get("breached")) == (1, 1)
                return group if done and group.get("tickets_solved") == 2 and complete else {}

            kpis = await eventually(settled, within=30, what="the facts of the scripted day")
            assert kpis["tickets_created"] == 3
            assert kpis["first_response_seconds"] == {
                "count": 2,
                "median": 1200.0,
                "p90": 1800.0,
                "average": 1200.0,
            }
            assert kpis["resolution_seconds"] == {
                "count": 2,
                "median": 4500.0,
                "p90": 5400.0,
                "average": 4500.0,
            }
            # 08:00–08:10 and 08:00–08:30 on a Tuesday in Hà Nội are all working time.
            assert kpis["first_response_business_seconds"]["median"] == 1200.0
            # A solved at 09:00, B at 09:30: inside the 08:00–12:00 window too.
            assert kpis["resolution_business_seconds"]["average"] == 4500.0
            assert kpis["fcr"] == {"numerator": 1, "denominator": 2, "percent": 50.0}
            assert kpis["reopen_rate"]["percent"] == 50.0
            # A: assigned at 2, solved at 60 → 58 min; B: 5 → 90 minus 10 minutes pending → 75 min.
            assert kpis["aht_seconds"]["median"] == (58 * 60 + 75 * 60) / 2
            # C waited in the queue from minute 1 to minute 20.
            assert kpis["queue_seconds"]["median"] == 19 * 60
            assert kpis["csat"]["responses"] == 2
            assert kpis["csat"]["percent"] == 50.0  # 5 and the revised 3
            assert kpis["csat"]["response_rate"] == 100.0
            assert kpis["nps"] == {
                "responses": 2,
                "promoters": 1,
                "passives": 1,
                "detractors": 0,
                "score": 50.0,
            }
            assert kpis["sla_compliance"]["first_response"] == {
                "met": 1,
                "breached": 1,
                "percent": 50.0,
            }
            assert kpis["transfer_rate"]["numerator"] == 1

            by_agent = (await http.get("/v1/kpis", params={**query, "group_by": "agent"})).json()[
                "groups"
            ]
            assert set(by_agent) == {"lan", "huy", "emily"}
            assert by_agent["huy"]["tickets_solved"] == 1
            assert (
                await http.get("/v1/kpis", params={**query, "group_by": "mood"})
            ).status_code == 422
            assert (
                await http.get("/v1/kpis", params={**query, "tz": "Mars/Olympus"})
            ).status_code == 422

            backlog = (await http.get("/v1/kpis/backlog")).json()
            assert (backlog["total"], backlog["by_status"]) == (1, {"open": 1})  # C
            assert age_bucket(NOW - at(0)) == "1-3d"
            assert backlog["by_age"]["1-3d"] == 1
            await app.state.gauges.refresh()  # now, instead of waiting for the periodic job
            metrics = (await http.get("/metrics")).text
            assert (
                's8_kpi_backlog_tickets{age="1-3d",priority="normal",status="open"} 1.0' in metrics
            )
            assert 's8_kpi_csat_percent{window="30d"}' in metrics
            assert 's8_kpi_tickets_created_total{channel="email",priority="normal"} 3.0' in metrics
            assert (
                's8_kpi_first_response_seconds_count{channel="email",priority="normal"} 2.0'
                in metrics
            )
            daily = (await http.get("/v1/kpis/daily", params=query)).json()
            assert [d["date"] for d in daily["days"]] == ["2026-11-24"]
            assert daily["days"][0]["tickets_created"] == 3
    finally:
        await runtime.stop()
    # Facts live in the store: a new process reports the same numbers.
    runtime, app = build(stack.settings(AnalyticsSettings), clock=lambda: NOW)
    await runtime.start()
    try:
        async with stack.client(app, "http://analytics") as http:
            again = (await http.get("/v1/kpis", params=query)).json()["groups"]["all"]
            assert again == kpis
    finally:
        await runtime.stop()


async def test_the_handoff_rate_counts_bot_conversations_that_needed_no_human(
    stack: TestStack,
) -> None:
    handoff = make_ticket_created(
        ticket_id="E",
        customer_id="C-E",
        channel="chatbot",
        bot_handoff=True,
        created_at=at(0),
        updated_at=at(0),
    ).model_copy(update={"occurred_at": at(0)})
    handled = [
        BotConversationHandled(
            producer="t",
            occurred_at=at(5 + i),
            payload=BotConversationPayload(
                conversation_id=f"B-{i}", customer_id="C-bot", handed_off=False
            ),
        )
        for i in range(2)
    ]
    runtime, app = build(stack.settings(AnalyticsSettings), clock=lambda: NOW)
    await runtime.start()
    try:
        events: list[Event[Any]] = [handoff, *handled, handled[0]]  # the last one redelivered
        for event in events:
            await stack.send(topics.TICKETS, event.to_bytes(), key=event.partition_key())
        async with stack.client(app, "http://analytics") as http:
            query = {"from": "2026-11-24T00:00:00", "to": "2026-11-25T00:00:00"}

            async def rate() -> dict[str, Any]:
                body: dict[str, Any] = (await http.get("/v1/kpis", params=query)).json()
                return body["handoff_rate"] if body["handoff_rate"]["denominator"] == 3 else {}

            assert (await eventually(rate, what="the handoff rate"))["numerator"] == 1
    finally:
        await runtime.stop()
