"""The pure decisions of outbound delivery: which requests are ours and who carries them,
the retry schedule, text splitting, and how each platform's errors are classified."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiosmtplib
import httpx
import pytest

from s8_channels.adapters.meta_sender import graph_error
from s8_channels.adapters.recipients import Recipient
from s8_channels.adapters.smtp_sender import smtp_error
from s8_channels.adapters.twilio_sender import twilio_error
from s8_channels.adapters.zalo_sender import zalo_error
from s8_channels.domain.delivery import (
    META,
    NONE,
    SMTP,
    TWILIO,
    ZALO,
    PermanentError,
    TransientError,
)
from s8_channels.domain.delivery_routing import (
    delivered_channels,
    is_ours,
    looks_like_email,
    provider_for,
)
from s8_channels.domain.retry_policy import (
    MAX_BACKOFF_SECONDS,
    GiveUp,
    RetryAt,
    abandoned,
    after_failure,
    backoff_seconds,
)
from s8_channels.domain.text_split import ELLIPSIS, split_text
from s8_shared.contracts import Channel, Language, OutboundMessagePayload

T0 = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)


def make_request(**overrides: Any) -> OutboundMessagePayload:
    fields: dict[str, Any] = {
        "outbound_id": "ob1",
        "ticket_id": "T-0123456789abcdef",
        "customer_id": "C-1",
        "channel": Channel.EMAIL,
        "to": "lan@example.vn",
        "language": Language.VI,
        "kind": "reply",
        "text": "Xin chào",
    }
    return OutboundMessagePayload(**{**fields, **overrides})


# --- which requests, which provider ----------------------------------------------------
@pytest.mark.parametrize(
    ("channel", "to", "ours"),
    [
        (Channel.EMAIL, "lan@example.vn", True),
        (Channel.SOCIAL, "2512523625412515", True),
        (Channel.SMS, "+84901234567", True),
        (Channel.WEB_FORM, "lan@example.vn", True),
        (Channel.WEB_FORM, "+84901234567", False),
        (Channel.LIVE_CHAT, "visitor-1", False),
        (Channel.CHATBOT, "visitor-1", False),
        (Channel.PHONE, "+84901234567", False),
        (Channel.ON_SITE, "+84901234567", False),
    ],
)
def test_only_email_social_sms_and_web_form_email_replies_are_delivered_here(
    channel: Channel, to: str, ours: bool
) -> None:
    assert is_ours(make_request(channel=channel, to=to)) is ours


def test_a_channel_without_a_configured_sender_is_left_to_other_delivery_systems() -> None:
    only_mail = delivered_channels(mail=True, sms=False, social=False)
    assert only_mail == {Channel.EMAIL, Channel.WEB_FORM}
    assert is_ours(make_request(channel=Channel.EMAIL, to="lan@example.vn"), only_mail)
    assert not is_ours(make_request(channel=Channel.SMS, to="+84901234567"), only_mail)
    assert not is_ours(make_request(channel=Channel.SOCIAL, to="2512523625412515"), only_mail)
    nothing = delivered_channels(mail=False, sms=False, social=False)
    assert not is_ours(make_request(channel=Channel.EMAIL, to="lan@example.vn"), nothing)


def test_an_email_address_is_told_from_phone_numbers_and_platform_ids() -> None:
    assert looks_like_email(" lan@example.vn ")
    assert not looks_like_email("+84901234567")
    assert not looks_like_email("lan@localhost")
    assert not looks_like_email("a b@example.vn")


@pytest.mark.parametrize(
    ("channel", "recipient", "provider"),
    [
        (Channel.EMAIL, None, SMTP),
        (Channel.WEB_FORM, None, SMTP),
        (Channel.SMS, None, TWILIO),
        (Channel.SMS, Recipient("twilio", "+84281234567"), TWILIO),
        (Channel.SOCIAL, Recipient("facebook", "page-1"), META),
        (Channel.SOCIAL, Recipient("instagram", "ig-1"), META),
        (Channel.SOCIAL, Recipient("zalo", "oa-1"), ZALO),
        (Channel.SOCIAL, Recipient("x", "acct"), NONE),
        (Channel.SOCIAL, None, NONE),
        (Channel.LIVE_CHAT, None, NONE),
    ],
)
def test_the_provider_follows_the_channel_and_the_account_the_customer_wrote_to(
    channel: Channel, recipient: Recipient | None, provider: str
) -> None:
    assert provider_for(channel, recipient) == provider


# --- the retry schedule ----------------------------------------------------------------
def test_backoff_doubles_from_the_base_after_each_failed_attempt_up_to_the_cap() -> None:
    assert [backoff_seconds(n, 1.0) for n in range(0, 6)] == [0.0, 1.0, 2.0, 4.0, 8.0, 16.0]
    assert [backoff_seconds(n, 0.5) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert backoff_seconds(11, 1.0) == MAX_BACKOFF_SECONDS
    assert backoff_seconds(10_000, 60.0) == MAX_BACKOFF_SECONDS  # no overflow


def test_a_transient_failure_is_retried_after_the_backoff_until_the_last_attempt() -> None:
    error = TransientError("HTTP 503")
    schedule = [
        after_failure(error, n, max_attempts=4, base_seconds=2.0, now=T0) for n in (1, 2, 3, 4)
    ]
    assert schedule[:3] == [
        RetryAt(T0 + timedelta(seconds=2), 2.0, "HTTP 503"),
        RetryAt(T0 + timedelta(seconds=4), 4.0, "HTTP 503"),
        RetryAt(T0 + timedelta(seconds=8), 8.0, "HTTP 503"),
    ]
    assert schedule[3] == GiveUp("gave up after 4 attempts: HTTP 503", permanent=False)


def test_a_permanent_failure_is_final_at_the_first_attempt() -> None:
    decision = after_failure(
        PermanentError("550 no such user"), 1, max_attempts=5, base_seconds=1.0, now=T0
    )
    assert decision == GiveUp("550 no such user", permanent=True)


def test_a_platforms_retry_after_lengthens_the_wait_but_never_past_the_cap() -> None:
    slow = after_failure(
        TransientError("429", retry_after=30), 1, max_attempts=5, base_seconds=1.0, now=T0
    )
    assert slow == RetryAt(T0 + timedelta(seconds=30), 30.0, "429")
    huge = after_failure(
        TransientError("429", retry_after=86_400), 1, max_attempts=5, base_seconds=1, now=T0
    )
    assert isinstance(huge, RetryAt)
    assert huge.delay_seconds == MAX_BACKOFF_SECONDS
    short = after_failure(
        TransientError("429", retry_after=0), 3, max_attempts=5, base_seconds=1.0, now=T0
    )
    assert isinstance(short, RetryAt)
    assert short.delay_seconds == 4.0


def test_a_claim_past_the_last_attempt_is_given_up_without_sending() -> None:
    assert abandoned(5, 5) is None
    gave_up = abandoned(6, 5)
    assert gave_up is not None
    assert not gave_up.permanent
    assert "without an outcome" in gave_up.reason


# --- splitting a long text ---------------------------------------------------------------
def test_a_text_that_fits_is_one_part() -> None:
    assert split_text("  Xin chào  ", 2000, 5) == ["Xin chào"]
    assert split_text("", 2000, 5) == [""]


def test_a_long_text_is_split_at_paragraphs_then_words_within_the_limit() -> None:
    text = ("a" * 60) + "\n\n" + ("b " * 40).strip() + " " + "c" * 30
    parts = split_text(text, 80, 5)
    assert parts[0] == "a" * 60
    assert all(len(p) <= 80 for p in parts)
    assert " ".join(parts).split() == text.split()


def test_a_word_longer_than_the_limit_is_cut_inside() -> None:
    assert split_text("x" * 25, 10, 5) == ["x" * 10, "x" * 10, "x" * 5]


def test_past_the_last_part_the_text_is_cut_with_an_ellipsis() -> None:
    parts = split_text("word " * 100, 50, 2)
    assert len(parts) == 2
    assert len(parts[1]) <= 50
    assert parts[1].endswith(ELLIPSIS)


# --- classifying platform errors --------------------------------------------------------
@pytest.mark.parametrize(
    ("exc", "permanent"),
    [
        (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no", "a")]), True),
        (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(451, "later", "a")]), False),
        (aiosmtplib.SMTPSenderRefused(553, "not allowed", "s8@example.com"), True),
        (aiosmtplib.SMTPDataError(452, "storage full"), False),
        (aiosmtplib.SMTPDataError(554, "rejected as spam"), True),
        (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), True),
        (aiosmtplib.SMTPNotSupported("STARTTLS extension not supported"), True),
        (aiosmtplib.SMTPConnectError("refused"), False),
        (aiosmtplib.SMTPConnectTimeoutError("slow"), False),
        (aiosmtplib.SMTPServerDisconnected("gone"), False),
        (aiosmtplib.SMTPReadTimeoutError("slow"), False),
    ],
)  # fmt: skip
def test_smtp_4xx_and_connection_failures_are_transient_and_5xx_permanent(
    exc: aiosmtplib.SMTPException, permanent: bool
) -> None:
    assert smtp_error(exc).permanent is permanent


def _response(
    status: int, body: Any = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    request = httpx.Request("POST", "http://platform.test/x")
    if body is None:
        return httpx.Response(status, text="<html>oops</html>", headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


def _graph(code: int, **extra: Any) -> dict[str, Any]:
    return {"error": {"message": "m", "type": "OAuthException", "code": code, **extra}}


@pytest.mark.parametrize(
    ("response", "permanent"),
    [
        (_response(400, _graph(190)), True),  # invalid token
        (_response(400, _graph(100, error_subcode=2018001)), True),  # no such user
        (_response(400, _graph(10, error_subcode=2018278)), True),  # outside the 24 h window
        (_response(400, _graph(613)), False),  # rate limit
        (_response(403, _graph(4)), False),
        (_response(400, _graph(17)), False),
        (_response(400, _graph(32)), False),
        (_response(400, _graph(2)), False),  # service temporarily unavailable
        (_response(400, _graph(1200, is_transient=True)), False),
        (_response(429, _graph(100)), False),
        (_response(500, _graph(1)), False),
        (_response(502), False),  # a proxy's page
        (_response(404), True),
    ],
)
def test_graph_rate_limits_and_temporary_errors_are_transient_other_4xx_permanent(
    response: httpx.Response, permanent: bool
) -> None:
    assert graph_error(response).permanent is permanent


@pytest.mark.parametrize(
    ("code", "permanent"),
    [(-32, False), (-200, False), (-214, False), (-216, True), (-220, True), (-124, True),
     (-213, True), (-230, True), (-201, True), (-211, True), (None, True)],
)  # fmt: skip
def test_zalo_rate_limit_is_transient_token_and_recipient_errors_permanent(
    code: int | None, permanent: bool
) -> None:
    assert zalo_error(code, "m").permanent is permanent


def test_a_zalo_token_error_says_a_new_token_is_needed() -> None:
    assert "new OA access token" in zalo_error(-216, "Access token is invalid").reason


@pytest.mark.parametrize(
    ("response", "permanent"),
    [
        (_response(400, {"code": 21211, "message": "Invalid 'To' Phone Number"}), True),
        (_response(401, {"code": 20003, "message": "Authenticate"}), True),
        (_response(429, {"code": 20429, "message": "Too Many Requests"}), False),
        (_response(503, {"code": 20500, "message": "Internal"}), False),
    ],
)
def test_twilio_429_and_5xx_are_transient_other_4xx_permanent(
    response: httpx.Response, permanent: bool
) -> None:
    error = twilio_error(response)
    assert error.permanent is permanent
    assert "Twilio error" in error.reason


def test_a_429_carries_the_platforms_retry_after() -> None:
    error = twilio_error(_response(429, {"code": 20429}, headers={"Retry-After": "7"}))
    assert error.retry_after == 7.0
    assert twilio_error(_response(429, {}, headers={"Retry-After": "soon"})).retry_after is None
