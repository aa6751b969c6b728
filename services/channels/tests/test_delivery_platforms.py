"""The Meta, Zalo and Twilio senders against local HTTP servers standing in for each
platform (uvicorn + Starlette on a free port): each server checks the credentials the way
the platform does, records the exact request, and answers like the platform (a success, a
refusal, a rate limit or an outage)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from s8_channels.accounts import MetaApp, TwilioAccount, ZaloAccount
from s8_channels.adapters.meta_sender import MetaSender
from s8_channels.adapters.recipients import Recipient
from s8_channels.adapters.twilio_sender import TwilioSender
from s8_channels.adapters.zalo_sender import ZaloSender
from s8_channels.domain.delivery import Delivery, PermanentError, TransientError
from s8_channels.settings import ChannelsSettings
from s8_shared.contracts import Channel, Language, OutboundMessagePayload

PAGE, PAGE_TOKEN, PSID = "104857600123", "EAAB-page-token", "6543210987654321"
OA, OA_TOKEN, ZALO_USER = "1357924680", "zalo-oa-access-token", "2512523625412515"
SID, AUTH_TOKEN = "AC" + "0123456789abcdef" * 2, "twilio-auth-token"
SHOP_LINE, OTHER_LINE, CUSTOMER = "+842873001234", "+842873009999", "+84901234567"

Answer = tuple[int, Any, dict[str, str]]  # status, JSON body, headers


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)


@dataclass
class Platform:
    """Records every request; answers the scripted answers in turn, then `success`."""

    success: Callable[[Seen], Answer]
    refuse: Callable[[Seen], Answer | None]  # the platform's answer to bad credentials
    script: list[Answer] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    async def endpoint(self, request: Request) -> Response:
        seen = Seen(request.url.path, dict(request.headers), await request.body())
        self.seen.append(seen)
        status, body, headers = self.refuse(seen) or (
            self.script.pop(0) if self.script else self.success(seen)
        )
        return JSONResponse(body, status_code=status, headers=headers)


@contextlib.asynccontextmanager
async def serving(path: str, platform: Platform) -> AsyncIterator[str]:
    app = Starlette(routes=[Route(path, platform.endpoint, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):  # uvicorn says when it listens by a flag, not an event
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as c:
        yield c


def delivery(channel: Channel, to: str, recipient: Recipient | None, text: str) -> Delivery:
    request = OutboundMessagePayload(
        outbound_id="ob-1",
        ticket_id="T-0123456789abcdef",
        customer_id="C-1",
        channel=channel,
        to=to,
        language=Language.VI,
        kind="reply",
        text=text,
    )
    return Delivery(request, 1, recipient)


async def failure_of(send: Awaitable[Any]) -> Exception:
    try:
        await send
    except Exception as exc:
        return exc
    raise AssertionError("the send did not fail")


# --- Meta Send API ------------------------------------------------------------------------
def graph() -> Platform:
    def refuse(seen: Seen) -> Answer | None:
        if seen.headers.get("authorization") == f"Bearer {PAGE_TOKEN}":
            return None
        error = {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}
        return 400, {"error": error}, {}

    def success(seen: Seen) -> Answer:
        n = len(seen_ok := [s for s in platform.seen if refuse(s) is None])
        return (
            200,
            {"recipient_id": seen_ok[-1].json()["recipient"]["id"], "message_id": f"m_{n}"},
            {},
        )

    platform = Platform(success, refuse)
    return platform


def meta_settings(base: str, token: str = PAGE_TOKEN) -> ChannelsSettings:
    app = MetaApp(
        app_secret=SecretStr("app-secret"),
        verify_token=SecretStr("verify"),
        page_tokens={PAGE: SecretStr(token)},
    )
    return ChannelsSettings(meta=app, meta_graph_url=f"{base}/v21.0/")


FACEBOOK = Recipient("facebook", PAGE)


async def test_meta_gets_the_send_api_request_with_the_page_token(
    client: httpx.AsyncClient,
) -> None:
    platform = graph()
    async with serving("/v21.0/{page}/messages", platform) as base:
        sender = MetaSender(meta_settings(base), client)
        receipt = await sender.send(delivery(Channel.SOCIAL, PSID, FACEBOOK, "Xin chào chị"))
    assert receipt.provider_message_id == "m_1"
    [seen] = platform.seen
    assert seen.path == f"/v21.0/{PAGE}/messages"
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Xin chào chị"},
    }
    assert PAGE_TOKEN not in seen.path  # the token travels in a header, never in the URL


async def test_meta_gets_a_long_text_as_several_messages_in_order(
    client: httpx.AsyncClient,
) -> None:
    platform = graph()
    text = "\n\n".join(f"Đoạn {i}: " + "chữ " * 300 for i in range(3))  # ~4,700 characters
    async with serving("/v21.0/{page}/messages", platform) as base:
        receipt = await MetaSender(meta_settings(base), client).send(
            delivery(Channel.SOCIAL, PSID, FACEBOOK, text)
        )
    texts = [s.json()["message"]["text"] for s in platform.seen]
    assert len(texts) == 3
    assert all(len(t) <= 2000 for t in texts)
    assert [t.split(":")[0] for t in texts] == ["Đoạn 0", "Đoạn 1", "Đoạn 2"]
    assert receipt.part_ids == ("m_1", "m_2", "m_3")
    assert receipt.provider_message_id == "m_1"


async def test_meta_refusing_the_token_is_a_permanent_failure(client: httpx.AsyncClient) -> None:
    async with serving("/v21.0/{page}/messages", graph()) as base:
        sender = MetaSender(meta_settings(base, token="stale"), client)
        error = await failure_of(sender.send(delivery(Channel.SOCIAL, PSID, FACEBOOK, "hi")))
    assert isinstance(error, PermanentError)
    assert "Graph error 190" in error.reason


async def test_meta_rate_limit_is_transient_and_the_next_attempt_succeeds(
    client: httpx.AsyncClient,
) -> None:
    platform = graph()
    limit = {"message": "Calls to this api have exceeded the rate limit.", "code": 613}
    platform.script = [(400, {"error": limit}, {}), (503, {"error": {"code": 2}}, {})]
    async with serving("/v21.0/{page}/messages", platform) as base:
        sender = MetaSender(meta_settings(base), client)
        first = await failure_of(sender.send(delivery(Channel.SOCIAL, PSID, FACEBOOK, "hi")))
        second = await failure_of(sender.send(delivery(Channel.SOCIAL, PSID, FACEBOOK, "hi")))
        receipt = await sender.send(delivery(Channel.SOCIAL, PSID, FACEBOOK, "hi"))
    assert isinstance(first, TransientError)
    assert isinstance(second, TransientError)
    assert receipt.provider_message_id == "m_3"


async def test_meta_without_a_token_for_the_page_is_permanent(client: httpx.AsyncClient) -> None:
    sender = MetaSender(ChannelsSettings(), client)
    error = await failure_of(sender.send(delivery(Channel.SOCIAL, PSID, FACEBOOK, "hi")))
    assert isinstance(error, PermanentError)
    assert "no page token" in error.reason


# --- Zalo OA message API ------------------------------------------------------------------
def zalo() -> Platform:
    def refuse(seen: Seen) -> Answer | None:
        if seen.headers.get("access_token") == OA_TOKEN:
            return None
        return 200, {"error": -216, "message": "Access token is invalid"}, {}

    def success(seen: Seen) -> Answer:
        data = {
            "message_id": f"zmsg{len(platform.seen)}",
            "user_id": seen.json()["recipient"]["user_id"],
        }
        return 200, {"error": 0, "message": "Success", "data": data}, {}

    platform = Platform(success, refuse)
    return platform


def zalo_settings(base: str, token: str | None = OA_TOKEN) -> ChannelsSettings:
    account = ZaloAccount(
        app_id="4321",
        oa_id=OA,
        secret_key=SecretStr("oa-secret"),
        access_token=SecretStr(token) if token else None,
    )
    return ChannelsSettings(zalo_accounts=[account], zalo_api_url=base)


ZALO_OA = Recipient("zalo", OA)


async def test_zalo_gets_the_consultation_message_with_the_oa_token(
    client: httpx.AsyncClient,
) -> None:
    platform = zalo()
    async with serving("/v3.0/oa/message/cs", platform) as base:
        receipt = await ZaloSender(zalo_settings(base), client).send(
            delivery(Channel.SOCIAL, ZALO_USER, ZALO_OA, "Cảm ơn anh")
        )
    assert receipt.provider_message_id == "zmsg1"
    [seen] = platform.seen
    assert seen.path == "/v3.0/oa/message/cs"
    assert seen.headers["access_token"] == OA_TOKEN
    assert seen.json() == {"recipient": {"user_id": ZALO_USER}, "message": {"text": "Cảm ơn anh"}}


async def test_zalo_refusing_the_token_with_http_200_is_still_a_permanent_failure(
    client: httpx.AsyncClient,
) -> None:
    async with serving("/v3.0/oa/message/cs", zalo()) as base:
        sender = ZaloSender(zalo_settings(base, token="expired"), client)
        error = await failure_of(sender.send(delivery(Channel.SOCIAL, ZALO_USER, ZALO_OA, "hi")))
    assert isinstance(error, PermanentError)
    assert "-216" in error.reason


async def test_zalo_rate_limit_and_outage_are_transient_then_it_succeeds(
    client: httpx.AsyncClient,
) -> None:
    platform = zalo()
    platform.script = [
        (200, {"error": -32, "message": "Your application reached limit call api"}, {}),
        (502, {"message": "bad gateway"}, {}),
    ]
    async with serving("/v3.0/oa/message/cs", platform) as base:
        sender = ZaloSender(zalo_settings(base), client)
        outcomes = [
            await failure_of(sender.send(delivery(Channel.SOCIAL, ZALO_USER, ZALO_OA, "hi")))
            for _ in range(2)
        ]
        receipt = await sender.send(delivery(Channel.SOCIAL, ZALO_USER, ZALO_OA, "hi"))
    assert [type(e) for e in outcomes] == [TransientError, TransientError]
    assert receipt.provider_message_id == "zmsg3"


async def test_zalo_user_outside_the_window_is_permanent(client: httpx.AsyncClient) -> None:
    platform = zalo()
    message = "User has not interacted with the OA in the past 7 days"
    platform.script = [(200, {"error": -230, "message": message}, {})]
    async with serving("/v3.0/oa/message/cs", platform) as base:
        sender = ZaloSender(zalo_settings(base), client)
        error = await failure_of(sender.send(delivery(Channel.SOCIAL, ZALO_USER, ZALO_OA, "hi")))
    assert isinstance(error, PermanentError)
    assert "7 days" in error.reason


async def test_zalo_oa_without_an_access_token_is_permanent(client: httpx.AsyncClient) -> None:
    sender = ZaloSender(zalo_settings("http://127.0.0.1:9", token=None), client)
    error = await failure_of(sender.send(delivery(Channel.SOCIAL, ZALO_USER, ZALO_OA, "hi")))
    assert isinstance(error, PermanentError)
    assert "no access token" in error.reason


# --- Twilio Messages API --------------------------------------------------------------------
def twilio() -> Platform:
    expected = "Basic " + base64.b64encode(f"{SID}:{AUTH_TOKEN}".encode()).decode()

    def refuse(seen: Seen) -> Answer | None:
        if seen.headers.get("authorization") == expected:
            return None
        body = {"code": 20003, "message": "Authenticate", "status": 401}
        return 401, body, {}

    def success(seen: Seen) -> Answer:
        form = seen.form()
        sid = f"SM{len(platform.seen):032x}"
        return (
            201,
            {"sid": sid, "status": "queued", "to": form["To"][0], "from": form["From"][0]},
            {},
        )

    platform = Platform(success, refuse)
    return platform


def twilio_settings(base: str, token: str = AUTH_TOKEN) -> ChannelsSettings:
    account = TwilioAccount(
        account_sid=SID, auth_token=SecretStr(token), numbers=[OTHER_LINE, SHOP_LINE]
    )
    return ChannelsSettings(twilio_accounts=[account], twilio_api_url=base)


TWILIO_PATH = "/2010-04-01/Accounts/{sid}/Messages.json"


async def test_twilio_gets_the_sms_from_the_number_the_customer_texted(
    client: httpx.AsyncClient,
) -> None:
    platform = twilio()
    async with serving(TWILIO_PATH, platform) as base:
        receipt = await TwilioSender(twilio_settings(base), client).send(
            delivery(Channel.SMS, CUSTOMER, Recipient("twilio", SHOP_LINE), "Đơn hàng đã giao")
        )
    assert receipt.provider_message_id == f"SM{1:032x}"
    [seen] = platform.seen
    assert seen.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert seen.form() == {"To": [CUSTOMER], "From": [SHOP_LINE], "Body": ["Đơn hàng đã giao"]}


async def test_twilio_sends_from_the_first_number_when_the_line_is_unknown(
    client: httpx.AsyncClient,
) -> None:
    platform = twilio()
    async with serving(TWILIO_PATH, platform) as base:
        sender = TwilioSender(twilio_settings(base), client)
        await sender.send(delivery(Channel.SMS, CUSTOMER, None, "a"))
        await sender.send(delivery(Channel.SMS, CUSTOMER, Recipient("twilio", "+1555"), "b"))
    assert [s.form()["From"] for s in platform.seen] == [[OTHER_LINE], [OTHER_LINE]]


async def test_twilio_refusing_the_credentials_or_the_number_is_permanent(
    client: httpx.AsyncClient,
) -> None:
    platform = twilio()
    invalid = {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}
    platform.script = [(400, invalid, {})]
    async with serving(TWILIO_PATH, platform) as base:
        bad_number = await failure_of(
            TwilioSender(twilio_settings(base), client).send(
                delivery(Channel.SMS, "+84000", None, "a")
            )
        )
        bad_token = await failure_of(
            TwilioSender(twilio_settings(base, token="wrong"), client).send(
                delivery(Channel.SMS, CUSTOMER, None, "a")
            )
        )
    assert isinstance(bad_number, PermanentError)
    assert "21211" in bad_number.reason
    assert isinstance(bad_token, PermanentError)
    assert "20003" in bad_token.reason


async def test_twilio_429_waits_as_asked_and_the_next_attempt_succeeds(
    client: httpx.AsyncClient,
) -> None:
    platform = twilio()
    platform.script = [(429, {"code": 20429, "message": "Too Many Requests"}, {"Retry-After": "3"})]
    async with serving(TWILIO_PATH, platform) as base:
        sender = TwilioSender(twilio_settings(base), client)
        error = await failure_of(sender.send(delivery(Channel.SMS, CUSTOMER, None, "a")))
        receipt = await sender.send(delivery(Channel.SMS, CUSTOMER, None, "a"))
    assert isinstance(error, TransientError)
    assert error.retry_after == 3.0
    assert receipt.provider_message_id == f"SM{2:032x}"


async def test_a_platform_that_does_not_answer_is_a_transient_failure() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # accepts connections, never answers
    port = silent.getsockname()[1]
    try:
        async with httpx.AsyncClient(timeout=0.2) as slow_client:
            sender = TwilioSender(twilio_settings(f"http://127.0.0.1:{port}"), slow_client)
            error = await failure_of(sender.send(delivery(Channel.SMS, CUSTOMER, None, "a")))
    finally:
        silent.close()
    assert isinstance(error, TransientError)
    assert "timed out" in error.reason
