"""The survey service on the real broker and store: CSAT after a solve, NPS on a cadence,
signed links, the response page, answers stored once, follow-ups for unhappy customers."""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from s8_shared import topics
from s8_shared.contracts import OUTBOUND_EVENTS, SURVEY_EVENTS, Event, utcnow
from s8_shared.contracts.surveys import SurveyAnswerPayload, SurveyAnswerSubmitted
from s8_shared.settings import DEV_SECRET
from s8_survey.app import build
from s8_survey.domain.tokens import sign
from s8_survey.settings import SurveySettings
from s8_testing.builders import make_ticket_created
from s8_testing.harness import TestStack, eventually

pytestmark = pytest.mark.integration


async def solve(stack: TestStack, ticket_id: str, customer: str = "C-lan", **snapshot: Any) -> None:
    fields = {
        "ticket_id": ticket_id,
        "customer_id": customer,
        "status": "solved",
        "agent_replies": 1,
        "contact_channel": "email",
        "contact": "lan.nguyen@example.vn",
        "version": 4,
        **snapshot,
    }
    event = make_ticket_created(**fields).model_copy(update={"occurred_at": utcnow()})
    await stack.send(topics.TICKETS, event.to_bytes(), key=ticket_id.encode())


async def survey_events(stack: TestStack, type_name: str) -> list[Event[Any]]:
    return [e for e in await stack.read_all(topics.SURVEYS, SURVEY_EVENTS) if e.type == type_name]


@pytest.fixture
async def survey(stack: TestStack) -> AsyncIterator[httpx.AsyncClient]:
    settings = stack.settings(SurveySettings, csat_delay_seconds=0, answer_grace_minutes=0)
    runtime, app = build(settings)
    await runtime.start()
    try:
        async with stack.client(app, "http://survey") as http:
            yield http
    finally:
        await runtime.stop()


async def test_a_solved_ticket_gets_one_csat_and_the_customer_answers_on_the_page(
    stack: TestStack, survey: httpx.AsyncClient
) -> None:
    await solve(stack, "T-1")

    async def requested() -> list[Event[Any]]:
        return [
            e for e in await survey_events(stack, "survey.requested") if e.payload.kind == "csat"
        ]

    [request] = await eventually(requested, what="the CSAT request")
    outbound = [
        o.payload
        for o in await stack.read_all(topics.OUTBOUND, OUTBOUND_EVENTS)
        if o.payload.kind == "survey"
    ]
    assert any(o.to == "lan.nguyen@example.vn" and request.payload.link in o.text for o in outbound)
    path = "/" + request.payload.link.split("/", 3)[3]

    page = await survey.get(path)
    assert page.status_code == 200
    assert "Bạn hài lòng thế nào" in page.text
    assert 'name="score"' in page.text
    assert 'lang="vi"' in page.text
    thanks = await survey.post(
        path,
        content=b"score=2&comment=Ch%E1%BB%9D+l%C3%A2u+qu%C3%A1",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert thanks.status_code == 200
    assert "Cảm ơn" in thanks.text

    async def responded() -> list[Event[Any]]:
        return await survey_events(stack, "survey.responded")

    [answer] = await eventually(responded, what="the answer event")
    assert (answer.payload.score, answer.payload.comment, answer.payload.ticket_id) == (
        2,
        "Chờ lâu quá",
        "T-1",
    )
    assert answer.payload.comment_sentiment is not None
    assert answer.payload.comment_sentiment < 0  # "waited too long" reads negative
    [followup] = await eventually(
        lambda: survey_events(stack, "survey.followup_requested"), what="a follow-up"
    )
    assert followup.payload.score == 2

    reused = await survey.post(
        path, content=b"score=5", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert reused.status_code == 409
    assert "đã được trả lời" in reused.text


async def test_forged_and_expired_links_get_a_clear_page(
    stack: TestStack, survey: httpx.AsyncClient
) -> None:
    await solve(stack, "T-2")

    async def csat_requested() -> list[Event[Any]]:
        # A solved ticket may also be due an NPS survey: wait for the CSAT one by its kind.
        return [
            e for e in await survey_events(stack, "survey.requested") if e.payload.kind == "csat"
        ]

    [request] = await eventually(csat_requested, what="the CSAT request")
    token = request.payload.link.rsplit("/", 1)[1]
    tampered = await survey.get(f"/s/{token[:-3]}abc")
    assert tampered.status_code == 403
    assert "không hợp lệ" in tampered.text
    expired = sign(request.payload.survey_id, utcnow() - timedelta(minutes=1), DEV_SECRET.encode())
    gone = await survey.get(f"/s/{expired}")
    assert gone.status_code == 410
    assert "hết hạn" in gone.text


async def test_surveys_are_throttled_per_customer_and_nps_follows_its_cadence(
    stack: TestStack, survey: httpx.AsyncClient
) -> None:
    await solve(stack, "T-3")
    await solve(stack, "T-4")  # same customer, inside the CSAT throttle window
    await solve(stack, "T-5", customer="C-other", contact="minh@example.vn")

    async def settled() -> list[Event[Any]]:
        found = await survey_events(stack, "survey.requested")
        return found if len(found) >= 4 else []

    requests = await eventually(settled, what="CSAT and NPS requests")
    csat = sorted(e.payload.ticket_id for e in requests if e.payload.kind == "csat")
    nps = sorted(e.payload.customer_id for e in requests if e.payload.kind == "nps")
    assert csat in (["T-3", "T-5"], ["T-4", "T-5"])
    assert nps == ["C-lan", "C-other"]


async def test_channels_answer_through_the_json_api(
    stack: TestStack, survey: httpx.AsyncClient
) -> None:
    await solve(stack, "T-6")

    async def csat_requested() -> list[Event[Any]]:
        return [
            e for e in await survey_events(stack, "survey.requested") if e.payload.kind == "csat"
        ]

    [request] = await eventually(csat_requested, what="the CSAT request")
    survey_id = request.payload.survey_id
    ok = await survey.post(f"/v1/surveys/{survey_id}/answers", json={"score": 5})
    assert ok.status_code == 200
    assert (
        await survey.post(f"/v1/surveys/{survey_id}/answers", json={"score": 4})
    ).status_code == 409
    assert (await survey.post("/v1/surveys/S-none/answers", json={"score": 4})).status_code == 404
    bad = await survey.post(
        f"/v1/surveys/{survey_id}/answers", json={"score": 9}, headers={"Authorization": "Bearer x"}
    )
    assert bad.status_code == 401
    assert (await survey.get(f"/v1/surveys/{survey_id}")).json()["score"] == 5
    rates = (await survey.get("/v1/surveys")).json()
    assert rates["csat"]["answered"] == 1
    assert rates["csat"]["response_rate"] == 1.0


async def test_an_answer_published_by_a_channel_on_the_topic_is_stored(
    stack: TestStack, survey: httpx.AsyncClient
) -> None:
    await solve(stack, "T-7")

    async def csat_requested() -> list[Event[Any]]:
        return [
            e for e in await survey_events(stack, "survey.requested") if e.payload.kind == "csat"
        ]

    [request] = await eventually(csat_requested, what="the CSAT request")
    answer = SurveyAnswerSubmitted(
        producer="chat-widget",
        payload=SurveyAnswerPayload(
            survey_id=request.payload.survey_id, score=4, channel="live_chat"
        ),
    )
    await stack.send(topics.SURVEYS, answer.to_bytes(), key=answer.partition_key())

    async def stored() -> bool:
        body = (await survey.get(f"/v1/surveys/{request.payload.survey_id}")).json()
        return bool(body.get("score") == 4)

    await eventually(stored, what="the answer from the topic")


class Breakable:
    """The service's publisher, made to fail as an unreachable broker would."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.broken = inner, True

    async def publish(self, spec: Any, event: Event[Any]) -> None:
        if self.broken:
            raise ConnectionError("broker unreachable")
        await self.inner.publish(spec, event)


async def test_invitations_and_answers_stored_during_a_broker_outage_are_published_after_it(
    stack: TestStack,
) -> None:
    settings = stack.settings(
        SurveySettings, csat_delay_seconds=0, answer_grace_minutes=0, outbox_sweep_seconds=0.5
    )
    runtime, app = build(settings)
    broker = Breakable(app.state.survey.publisher)
    app.state.survey.publisher = broker
    surveys = stack.db(settings).surveys
    await runtime.start()
    try:
        await solve(stack, "T-outage")

        async def stored_unpublished() -> Any:
            return await surveys.find_one({"ticket_id": "T-outage", "state": "sent", "has_outbox": True})  # fmt: skip

        doc: Any = await eventually(
            stored_unpublished, what="the invitation stored, not yet published"
        )
        assert [i["topic"] for i in doc["outbox"]] == ["support.outbound.v1", "support.surveys.v1"]
        assert not [e for e in await survey_events(stack, "survey.requested") if e.payload.ticket_id == "T-outage"]  # fmt: skip
        broker.broken = False

        async def requested() -> list[Event[Any]]:
            # At least once: a sweep that overlaps the publish may send it again, same event id.
            found = {e.event_id: e for e in await survey_events(stack, "survey.requested") if e.payload.ticket_id == "T-outage"}  # fmt: skip
            return list(found.values())

        [request] = await eventually(requested, what="the invitation published by the sweeper")
        outbound = {o.event_id for o in await stack.read_all(topics.OUTBOUND, OUTBOUND_EVENTS) if o.payload.outbound_id == doc["_id"]}  # fmt: skip
        assert len(outbound) == 1

        broker.broken = True
        async with stack.client(app, "http://survey") as http:  # fmt: skip
            path = "/" + request.payload.link.split("/", 3)[3]
            thanks = await http.post(path, content=b"score=1", headers={"content-type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert thanks.status_code == 200  # stored: the customer's answer is not refused
        assert (await surveys.find_one({"_id": doc["_id"]}) or {})["has_outbox"] is True
        broker.broken = False

        async def answered() -> tuple[int, int]:
            responded = {e.event_id for e in await survey_events(stack, "survey.responded") if e.payload.survey_id == doc["_id"]}  # fmt: skip
            followups = {e.event_id for e in await survey_events(stack, "survey.followup_requested") if e.payload.survey_id == doc["_id"]}  # fmt: skip
            return (len(responded), len(followups))

        await eventually(lambda: _equal(answered, (1, 1)), what="the answer and its follow-up published")  # fmt: skip
    finally:
        await runtime.stop()


async def _equal(check: Any, expected: Any) -> bool:
    return bool(await check() == expected)
