"""Stringee's call events through the app: with the account's URL token, a customer's call
is published once when it has ended (answered, missed or abandoned); every other event is
acknowledged; without the right token nothing is published."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from s8_channels.accounts import StringeeAccount
from s8_channels.app import build
from s8_channels.domain import stringee_payload
from s8_channels.settings import ChannelsSettings
from s8_shared.contracts.inbound import PhoneCall
from s8_testing.channels_fakes import FakeSink, channels_app

SAMPLES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parent / "fixtures" / "stringee_events.json").read_text()
)
ACCOUNT = "ACab9b9bcf6391c6af9fe1663c729e3a6b"
TOKEN = "r8Vh2kq9-Zp4mW7xT1yL6nB3cF0dJ5sG"
EVENTS = "/v1/channels/stringee/events"


def documented(status: str, **changes: Any) -> dict[str, Any]:
    """Stringee's documented sample of `status`, for the configured account."""
    event = copy.deepcopy(SAMPLES[status])
    return {**event, "account_sid": ACCOUNT, **changes}


def customer_call(**changes: Any) -> dict[str, Any]:
    """The documented ended event turned into a customer's call to the hotline: a phone
    (external) calling a Stringee number, answered for 95 seconds."""
    event = documented("ended", callCreatedReason="EXTERNAL_CALL_IN", endCallCause="USER_END_CALL",
                       duration=131, answerDuration=95, call_id="call-vn-1-CUSTOMER-1700000000000")  # fmt: skip
    event["from"] = {"number": "84903123456", "alias": "Chị Lan", "is_online": False, "type": "external"}  # fmt: skip
    event["to"] = {"number": "842873001234", "alias": "842873001234", "is_online": False, "type": "external"}  # fmt: skip
    return {**event, **changes}


@dataclass
class Harness:
    http: httpx.AsyncClient
    app: FastAPI
    sink: FakeSink

    def count(self, metric: str, outcome: str | None = None) -> float:
        labels = {"platform": "stringee"} | ({"outcome": outcome} if outcome else {})
        return float(self.app.state.runtime.registry.get_sample_value(metric, labels) or 0.0)

    async def post(self, event: Any, token: str | None = TOKEN) -> httpx.Response:
        params = {"token": token} if token is not None else {}
        response: httpx.Response = await self.http.post(EVENTS, params=params, json=event)
        return response

    def only_call(self) -> PhoneCall:
        [call] = self.sink.published
        assert isinstance(call, PhoneCall)
        return call


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    account = StringeeAccount(account_sid=ACCOUNT, url_token=SecretStr(TOKEN))
    async with channels_app(ChannelsSettings(stringee_accounts=[account])) as app:
        yield Harness(app.http, app.app, app.sink)


@pytest.mark.parametrize("status", ["created", "started", "ringing", "answered", "agentEnded"])
async def test_a_call_that_has_not_ended_is_acknowledged_and_not_published(
    harness: Harness, status: str
) -> None:
    response = await harness.post(documented("started", call_status=status))
    assert (response.status_code, response.json()) == (200, {"status": "ignored"})
    assert harness.sink.published == []
    assert harness.count("s8_channels_received_total", "ignored") == 1


async def test_an_answered_customer_call_is_published_once_with_its_talk_time(harness: Harness) -> None:  # fmt: skip
    for _ in range(2):  # Stringee sending the end of the call again
        assert (await harness.post(customer_call())).status_code == 200
    call = harness.only_call()
    assert (call.channel_message_id, call.caller_number, call.caller_name, call.dialled_line) == (
        "call-vn-1-CUSTOMER-1700000000000", "84903123456", "Chị Lan", "842873001234")  # fmt: skip
    assert (call.duration_seconds, call.missed, call.abandoned) == (95, False, False)
    assert call.received_at is not None
    assert call.received_at.isoformat() == "2018-10-01T04:51:01.077000+00:00"
    assert call.raw["endCallCause"] == "USER_END_CALL"
    assert harness.count("s8_channels_received_total", "duplicate") == 1


async def test_a_call_no_agent_answered_is_missed(harness: Harness) -> None:
    await harness.post(customer_call(answerDuration=0, endedBy="INTERNAL", endCallCause="480 Temporarily Unavailable"))  # fmt: skip
    call = harness.only_call()
    assert (call.missed, call.abandoned, call.duration_seconds) == (True, False, 0)


async def test_a_caller_who_hung_up_while_waiting_is_abandoned(harness: Harness) -> None:
    await harness.post(customer_call(answerDuration=0, duration=48, endedBy="EXTERNAL"))
    call = harness.only_call()
    assert (call.missed, call.abandoned, call.duration_seconds) == (False, True, 0)


async def test_a_call_dropped_before_it_rang_is_missed_not_abandoned(harness: Harness) -> None:
    await harness.post(customer_call(answerDuration=0, duration=0, endedBy="EXTERNAL"))
    assert harness.only_call().missed


async def test_the_documented_call_of_an_app_user_to_a_phone_is_not_a_customer_call(
    harness: Harness,
) -> None:
    response = await harness.post(documented("ended"))
    assert (response.status_code, response.json()) == (200, {"status": "ignored"})
    assert harness.sink.published == []


@pytest.mark.parametrize(
    ("case", "event", "token"),
    [
        ("no token", customer_call(), None),
        ("an empty token", customer_call(), ""),
        ("a wrong token", customer_call(), TOKEN[:-1] + "X"),
        ("an unknown account", customer_call(account_sid="AC" + "0" * 32), TOKEN),
        ("no account", {k: v for k, v in customer_call().items() if k != "account_sid"}, TOKEN),
    ],
)
async def test_an_event_without_the_accounts_token_is_refused_counted_and_not_published(
    harness: Harness, case: str, event: dict[str, Any], token: str | None
) -> None:
    response = await harness.post(event, token=token)
    assert response.status_code == 401, case
    assert harness.sink.published == []
    assert harness.count("s8_channels_signature_failures_total") == 1


async def test_a_body_that_is_not_a_json_object_is_a_400(harness: Harness) -> None:
    for body in (b"call_status=ended", b"[1, 2]", b'{"call_status": "ended"'):
        response = await harness.http.post(EVENTS, params={"token": TOKEN}, content=body)
        assert response.status_code == 400, body
    assert harness.sink.published == []
    assert harness.count("s8_channels_received_total", "invalid") == 3


async def test_an_ended_customer_call_without_a_caller_number_is_a_400(harness: Harness) -> None:
    event = customer_call()
    event["from"] = {"type": "external"}
    assert (await harness.post(event)).status_code == 400
    assert harness.sink.published == []


def test_the_openapi_document_declares_the_url_token() -> None:
    _, app = build(ChannelsSettings())
    operation = app.openapi()["paths"][EVENTS]["post"]
    assert operation["security"] == [{"stringeeUrlToken": []}]
    assert {"200", "400", "401"} <= set(operation["responses"])


def test_the_token_is_compared_as_bytes_whatever_it_holds() -> None:
    assert stringee_payload.token_matches(TOKEN, TOKEN)
    assert not stringee_payload.token_matches(TOKEN, "Đà Nẵng")
