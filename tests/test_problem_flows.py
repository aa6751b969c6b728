"""Proactive support on the real broker and store: a declared problem tells its affected
customers once, links their new tickets as incidents with an immediate status reply,
and its resolution tells every linked customer and solves each incident once."""

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from s8_analytics.app import build as build_analytics
from s8_analytics.settings import AnalyticsSettings
from s8_intake.adapters.problem_store import OUTREACH
from s8_intake.service.outreach import Outreach
from s8_shared import topics
from s8_shared.contracts.problems import PROBLEM_EVENTS
from s8_testing.builders import make_inbound, make_sms
from s8_testing.harness import TestStack, eventually
from s8_testing.intake_stack import Intake, running_intake

pytestmark = pytest.mark.integration

OUTAGE: dict[str, Any] = {
    "problem_id": "P-hn-payments",
    "title": {"vi": "Cổng thanh toán gián đoạn tại Hà Nội", "en": "Payment outage in Hà Nội"},
    "description": {"vi": "Thanh toán thẻ đang lỗi.", "en": "Card payments are failing."},
    "segment": {"regions": ["Hà Nội"]},
    "keywords": ["thanh toán", "payment"],
    "declared_by": "lead-1",
}


@pytest.fixture
async def intake(stack: TestStack) -> AsyncIterator[Intake]:
    async for running in running_intake(stack, problem_notices_per_second=500):
        yield running


async def customer(intake: Intake, upsert_id: str, **fields: Any) -> str:
    response = await intake.http.put("/v1/customers", json={"upsert_id": upsert_id, **fields})
    assert response.status_code == 200, response.text
    customer_id: str = response.json()["customer_id"]
    return customer_id


async def problem_events(intake: Intake) -> list[Any]:
    return await intake.stack.read_all(topics.PROBLEMS, PROBLEM_EVENTS)


async def notices(intake: Intake, kind: str = "proactive_notice") -> list[Any]:
    return [e.payload for e in await intake.outbound() if e.payload.kind == kind]


async def three_customers(intake: Intake) -> dict[str, str]:
    return {
        "lan": await customer(
            intake,
            "u-lan",
            identities=[
                {"kind": "email", "value": "lan.nguyen@example.vn"},
                {"kind": "phone", "value": "0903123456"},
            ],
            region="Hà Nội",
            preferred_channel="sms",
        ),
        "minh": await customer(
            intake,
            "u-minh",
            identities=[{"kind": "email", "value": "minh@example.com"}],
            region="ha noi",
            language="en",
        ),
        "hoa": await customer(
            intake,
            "u-hoa",
            identities=[{"kind": "email", "value": "hoa@example.vn"}],
            region="Hồ Chí Minh",
        ),
    }


async def test_declaring_a_problem_tells_each_affected_customer_once(intake: Intake) -> None:
    people = await three_customers(intake)
    created = await intake.http.post("/v1/problems", json=OUTAGE)
    assert created.status_code == 201, created.text

    async def two_notices() -> list[Any]:
        found = await notices(intake)
        return found if len(found) >= 2 else []

    sent = await eventually(two_notices, within=15, what="two proactive notices")
    assert len(sent) == 2
    by_customer = {n.customer_id: n for n in sent}
    assert set(by_customer) == {people["lan"], people["minh"]}  # not Hồ Chí Minh
    assert (by_customer[people["lan"]].channel.value, by_customer[people["lan"]].to) == (
        "sms",
        "+84903123456",
    )  # her preferred channel
    assert by_customer[people["minh"]].language.value == "en"
    assert "Payment outage" in (by_customer[people["minh"]].subject or "")

    # Redelivery of the declaration, and an outreach job run again from the start after
    # a crash, send nothing twice.
    again = await intake.http.post("/v1/problems", json=OUTAGE)
    assert again.status_code == 200
    outreach = intake.service.outreach
    assert isinstance(outreach, Outreach)
    jobs = intake.stack.db(intake.runtime.settings)[OUTREACH]
    await jobs.update_many({}, {"$set": {"state": "pending", "cursor": ""}})
    await outreach.run_outreach()
    assert len(await notices(intake)) == 2
    notified = [e for e in await problem_events(intake) if e.type == "problem.customer_notified"]
    assert len(notified) == 2
    assert all(e.payload.proactive for e in notified)

    view = (await intake.http.get(f"/v1/customers/{people['lan']}")).json()
    assert [(c["problem_id"], c["notice"]) for c in view["proactive_contacts"]] == [
        ("P-hn-payments", "declared")
    ]
    details = (await intake.http.get("/v1/problems/P-hn-payments")).json()
    assert details["notices"] == {"declared": 2}


async def test_a_matching_ticket_is_linked_answered_and_resolution_solves_it_once(
    intake: Intake,
) -> None:
    people = await three_customers(intake)
    await customer(
        intake,
        "u-vip",
        identities=[{"kind": "email", "value": "vip@example.vn"}],
        region="Hà Nội",
        tier="vip",
    )
    assert (await intake.http.post("/v1/problems", json=OUTAGE)).status_code == 201

    async def segment_told() -> bool:
        details = (await intake.http.get("/v1/problems/P-hn-payments")).json()
        return bool(details["notices"].get("declared") == 3)  # Lan, Minh and the VIP

    await eventually(segment_told, within=15, what="the Hà Nội customers told")

    # Lan writes in about it anyway: linked, told the status at once, parked for the fix.
    lan = await intake.post(
        make_sms(text="Tôi không thanh toán được bằng thẻ từ sáng, kiểm tra giúp tôi")
    )
    # A VIP is linked too but still goes to an agent (incident_routing: vip).
    vip = await intake.post(
        make_inbound(
            channel_message_id="<vip-1@example.vn>",
            **{"from": {"address": "vip@example.vn"}},
            subject="Payment failed",
            text="My card payment failed twice today.",
        )
    )
    # Hoa (Hồ Chí Minh) writes about payments too: not in the segment, not linked.
    hoa = await intake.post(
        make_inbound(
            channel_message_id="<hoa-1@example.vn>",
            **{"from": {"address": "hoa@example.vn"}},
            subject="Thanh toán",
            text="Tôi thanh toán không được",
        )
    )
    tickets = {
        name: (await intake.ticket(r["ticket_id"]))["ticket"]
        for name, r in {"lan": lan, "vip": vip, "hoa": hoa}.items()
    }
    assert (tickets["lan"]["problem_id"], tickets["lan"]["status"]) == ("P-hn-payments", "pending")
    assert (tickets["vip"]["problem_id"], tickets["vip"]["status"]) == ("P-hn-payments", "new")
    assert tickets["hoa"]["problem_id"] is None
    replies = await notices(intake, "incident_status")
    assert {r.ticket_id for r in replies} == {lan["ticket_id"], vip["ticket_id"]}
    assert all(r.problem_id == "P-hn-payments" for r in replies)
    linked = [e for e in await intake.events() if e.type == "ticket.problem_linked"]
    assert {(e.payload.ticket_id, e.payload.by) for e in linked} == {
        (lan["ticket_id"], "auto"),
        (vip["ticket_id"], "auto"),
    }
    created = {e.payload.ticket_id: e for e in await intake.events() if e.type == "ticket.created"}
    # Router and SLA monitor know from ticket.created alone that Lan's waits on the fix.
    assert created[lan["ticket_id"]].payload.ticket.status.value == "pending"

    # An agent links Hoa's ticket by hand after all, then unlinks it again: back to agents.
    hand = await intake.http.post(
        "/v1/problems/P-hn-payments/incidents",
        json={"ticket_id": hoa["ticket_id"], "actor_id": "agent-7"},
    )
    assert hand.status_code == 200, hand.text
    assert hand.json()["problem_id"] == "P-hn-payments"
    gone = await intake.http.delete(
        f"/v1/problems/P-hn-payments/incidents/{hoa['ticket_id']}", params={"actor_id": "agent-7"}
    )
    assert gone.status_code == 200
    assert gone.json()["problem_id"] is None
    relinked = await intake.act(
        hoa["ticket_id"],
        kind="link_problem",
        action_id="link-hoa-2",
        actor_id="agent-7",
        problem_id="P-hn-payments",
    )
    assert relinked.status_code == 200, relinked.text

    resolved = await intake.http.patch(
        "/v1/problems/P-hn-payments",
        json={
            "update_id": "fix-1",
            "status": "resolved",
            "message": {"vi": "Đã khắc phục lúc 14:00.", "en": "Fixed at 14:00."},
            "updated_by": "lead-1",
        },
    )
    assert resolved.status_code == 200, resolved.text
    # The same resolution again (a retried request) changes nothing.
    retry = await intake.http.patch(
        "/v1/problems/P-hn-payments",
        json={"update_id": "fix-1", "status": "resolved", "updated_by": "lead-1"},
    )
    assert retry.status_code == 200
    assert retry.json()["update_seq"] == resolved.json()["update_seq"]

    incident_ids = {lan["ticket_id"], vip["ticket_id"], hoa["ticket_id"]}

    async def all_solved() -> bool:
        statuses = [(await intake.ticket(t))["ticket"]["status"] for t in incident_ids]
        return statuses == ["solved"] * len(incident_ids)

    await eventually(all_solved, within=15, what="every incident solved")

    async def resolution_notices() -> list[Any]:
        told = {
            e.payload.outbound_id
            for e in await problem_events(intake)
            if e.type == "problem.customer_notified" and e.payload.notice == "resolved"
        }
        # Every linked customer, plus Minh who was told of the outage before.
        return (
            [n.payload for n in await intake.outbound() if n.payload.outbound_id in told]
            if len(told) >= 4
            else []
        )

    final = await eventually(resolution_notices, within=15, what="resolution notices")
    assert len(final) == 4, [(n.customer_id, n.kind) for n in final]
    assert all("Fixed at 14:00." in n.text or "Đã khắc phục lúc 14:00." in n.text for n in final)
    assert {n.ticket_id for n in final if n.kind == "incident_status"} == incident_ids
    assert [n.customer_id for n in final if n.kind == "proactive_notice"] == [people["minh"]]
    solved_events = Counter(
        e.payload.ticket_id
        for e in await intake.events()
        if e.type == "ticket.status_changed" and e.payload.reason == "problem_resolved"
    )
    assert solved_events == dict.fromkeys(incident_ids, 1)

    # A resolved problem is final; linking to it is refused with the reason.
    late = await intake.http.patch(
        "/v1/problems/P-hn-payments", json={"message": {"en": "x"}, "updated_by": "lead-1"}
    )
    assert late.status_code == 409
    assert "resolved" in late.json()["detail"]


async def test_a_customer_who_writes_again_is_routed_after_all(intake: Intake) -> None:
    await three_customers(intake)
    assert (await intake.http.post("/v1/problems", json=OUTAGE)).status_code == 201
    first = await intake.post(make_sms(text="Không thanh toán được"))
    assert (await intake.ticket(first["ticket_id"]))["ticket"]["status"] == "pending"
    again = await intake.post(
        make_sms(channel_message_id="sms-2", text="Tôi cần gặp nhân viên ngay, gấp lắm")
    )
    assert again["ticket_id"] == first["ticket_id"]
    ticket = (await intake.ticket(first["ticket_id"]))["ticket"]
    assert (ticket["status"], ticket["problem_id"]) == ("open", "P-hn-payments")


async def test_bad_problem_requests_get_clear_errors(intake: Intake) -> None:
    no_segment = await intake.http.post("/v1/problems", json={**OUTAGE, "segment": {}})
    assert no_segment.status_code == 422
    assert "name the affected segment" in no_segment.text
    assert (await intake.http.get("/v1/problems/P-nope")).status_code == 404
    missing = await intake.http.patch(
        "/v1/problems/P-nope", json={"status": "identified", "updated_by": "lead-1"}
    )
    assert missing.status_code == 404
    assert (await intake.http.post("/v1/problems", json=OUTAGE)).status_code == 201
    clash = await intake.http.post("/v1/problems", json={**OUTAGE, "keywords": ["other"]})
    assert clash.status_code == 409
    assert "exists" in clash.json()["detail"]
    unknown_ticket = await intake.http.post(
        "/v1/problems/P-hn-payments/incidents", json={"ticket_id": "T-nope", "actor_id": "a"}
    )
    assert unknown_ticket.status_code == 404
    bad_action = await intake.act(
        "T-nope", kind="link_problem", action_id="x", actor_id="a", problem_id="P-hn-payments"
    )
    assert bad_action.status_code == 404


async def test_analytics_counts_proactive_contacts_avoided_tickets_and_incidents(
    intake: Intake, stack: TestStack
) -> None:
    runtime, app = build_analytics(stack.settings(AnalyticsSettings))
    await runtime.start()
    try:
        async with stack.client(app, "http://analytics") as analytics:
            await three_customers(intake)
            assert (await intake.http.post("/v1/problems", json=OUTAGE)).status_code == 201

            async def told() -> bool:
                details = (await intake.http.get("/v1/problems/P-hn-payments")).json()
                return bool(details["notices"].get("declared") == 2)

            await eventually(told, within=15, what="Lan and Minh told")
            # Lan writes in anyway (an incident); Hoa writes about something else.
            await intake.post(make_sms(text="Vẫn không thanh toán được"))
            await intake.post(
                make_inbound(
                    channel_message_id="<hoa-2@example.vn>",
                    **{"from": {"address": "hoa@example.vn"}},
                    subject="Đổi địa chỉ",
                    text="Tôi muốn đổi địa chỉ giao hàng",
                )
            )

            async def report() -> dict[str, Any]:
                body: dict[str, Any] = (await analytics.get("/v1/kpis/proactive")).json()
                done = body["proactive_contacts"] == 2 and body["problems"]
                both_tickets = body["proactive_contact_rate"]["denominator"] == 4
                return body if done and both_tickets and body["problems"][0]["incidents"] else {}

            body = await eventually(report, within=20, what="proactive KPIs")
            assert body["problems"][0]["incidents"] == 1  # Lan's ticket
            assert body["tickets_avoided"] == 1  # Minh never wrote in
            assert body["problems"][0]["customers_told"] == 2
            assert body["problems"][0]["title"] == "Payment outage in Hà Nội"
            # 2 proactive contacts ÷ (2 + 2 inbound tickets)
            assert body["proactive_contact_rate"] == {
                "numerator": 2,
                "denominator": 4,
                "percent": 50.0,
            }
            kpis = (await analytics.get("/v1/kpis")).json()
            assert kpis["proactive_contact_rate"]["percent"] == 50.0
            assert "proactive_contact_rate" in kpis["definitions"]
    finally:
        await runtime.stop()


@pytest.fixture
async def slow_intake(stack: TestStack) -> AsyncIterator[Intake]:
    async for running in running_intake(stack, problem_notices_per_second=1):
        yield running


async def test_outreach_is_throttled_and_reaches_the_segment_and_linked_customers_once(
    slow_intake: Intake,
) -> None:
    intake = slow_intake
    people = await three_customers(intake)
    for n in range(3):
        await customer(
            intake,
            f"u-hn-{n}",
            identities=[{"kind": "email", "value": f"hn{n}@example.vn"}],
            region="Hà Nội",
        )
    quiet = {**OUTAGE, "notify": False}
    assert (await intake.http.post("/v1/problems", json=quiet)).status_code == 201
    # Hoa (Hồ Chí Minh, outside the segment) has a ticket an agent links by hand.
    hoa = await intake.post(
        make_inbound(
            channel_message_id="<hoa-9@example.vn>",
            **{"from": {"address": "hoa@example.vn"}},
            subject="Thẻ bị từ chối",
            text="Thẻ của tôi bị từ chối khi mua hàng",
        )
    )
    linked = await intake.http.post(
        "/v1/problems/P-hn-payments/incidents",
        json={"ticket_id": hoa["ticket_id"], "actor_id": "agent-7"},
    )
    assert linked.status_code == 200
    update = {"status": "identified", "updated_by": "lead-1", "update_id": "u1"}
    assert (await intake.http.patch("/v1/problems/P-hn-payments", json=update)).is_success

    async def everyone_told() -> list[Any]:
        events = [
            e
            for e in await problem_events(intake)
            if e.type == "problem.customer_notified" and e.payload.notice == "update"
        ]
        return events if len(events) >= 6 else []

    told = await eventually(everyone_told, within=30, what="six update notices")
    # Five in Hà Nội (Lan, Minh and three more) plus Hoa through her incident, once each.
    assert len(told) == 6
    assert len({e.payload.customer_id for e in told}) == 6
    assert people["hoa"] in {e.payload.customer_id for e in told}
    notices = [e for e in await problem_events(intake) if e.type == "problem.customer_notified"]
    assert {e.payload.notice for e in notices} == {"update"}  # declared quietly
    # One notice per second: six notices take at least four seconds.
    times = sorted(e.occurred_at for e in told)
    assert (times[-1] - times[0]).total_seconds() >= 4

    async def job_done() -> dict[str, Any]:
        details = (await intake.http.get("/v1/problems/P-hn-payments")).json()
        (job,) = details["outreach"]
        return job if job["state"] == "done" else {}

    assert (await eventually(job_done, within=5, what="the outreach job done"))["sent"] == 6
