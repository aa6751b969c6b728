"""Twilio's SMS and voice webhooks: each request checked against `X-Twilio-Signature`
(with the auth token of the account its `AccountSid` names), mapped, put on the inbound
topic, and answered with TwiML.

Set in the Twilio console, for each number: Messaging "A message comes in" →
`{public_base_url}/v1/channels/twilio/sms`; Voice "Call status changes" →
`{public_base_url}/v1/channels/twilio/voice` (the call is published then, once). Both are
answered with an empty `<Response/>`: s8 does not drive the call, so keep your own call
flow as "A call comes in"; pointed at this URL instead, Twilio ends the call at once and it
is recorded as missed, a call to return.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request, Response, Security
from fastapi.security import APIKeyHeader
from pydantic import ValidationError

from s8_channels import api as signatures
from s8_channels.accounts import TwilioAccount
from s8_channels.adapters.recipients import Recipient
from s8_channels.context import Channels, channels_of
from s8_channels.domain import twilio_payload as payload
from s8_shared.contracts.envelope import validation_reason

log = logging.getLogger(__name__)
T = TypeVar("T")
PLATFORM = "twilio"

router = APIRouter(prefix="/v1/channels/twilio", tags=["twilio"])
ChannelsDep = Annotated[Channels, Depends(channels_of)]
_signature = APIKeyHeader(
    name="X-Twilio-Signature",
    scheme_name="twilioSignature",
    description="base64 HMAC-SHA1, with the account's auth token, of the public URL Twilio "
    "called followed by every POST parameter's name and value, sorted by name.",
    auto_error=False,  # a missing header is refused as a signature failure, counted
)
Signature = Annotated[str | None, Security(_signature)]

_FORM = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {"type": "object", "additionalProperties": {"type": "string"}}
        }
    },
}
OPENAPI = {"requestBody": _FORM}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "TwiML: an empty `<Response/>`", "content": {"text/xml": {}}},
    400: {"description": "not a bounded UTF-8 form, or a message s8 cannot represent"},
    401: {"description": "no X-Twilio-Signature, an unknown AccountSid, or a wrong signature"},
}


def _twiml() -> Response:
    return Response(payload.EMPTY_TWIML, media_type="text/xml")


def _invalid(channels: Channels, reason: str) -> HTTPException:
    channels.metrics.received.labels(PLATFORM, "invalid").inc()
    return HTTPException(400, reason)


def _account(channels: Channels, sid: str | None) -> TwilioAccount | None:
    accounts = channels.settings.twilio_accounts
    return next((a for a in accounts if sid is not None and a.account_sid == sid), None)


async def _signed_params(request: Request, channels: Channels, given: str | None) -> payload.Params:
    """The form's parameters, once the signature of the account they name matches."""
    if not given:
        raise signatures.refuse(request, PLATFORM, "no X-Twilio-Signature header")
    try:
        params = payload.parse_form(await request.body())
    except payload.FormError as exc:
        raise _invalid(channels, str(exc)) from exc
    account = _account(channels, payload.first(params, "AccountSid"))
    if account is None:
        raise signatures.refuse(request, PLATFORM, "unknown AccountSid")
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    url = payload.signed_url(
        channels.settings.public_base_url,
        raw_path.decode("latin-1"),
        request.scope.get("query_string", b"").decode("latin-1"),
    )
    if not payload.verify(account.auth_token.get_secret_value(), url, params, given):
        raise signatures.refuse(request, PLATFORM, "the signature does not match")
    return params


def _mapped(channels: Channels, build: Callable[[payload.Params], T], params: payload.Params) -> T:
    """What `build` makes of the parameters; 400 (counted) when they hold no message."""
    try:
        return build(params)
    except ValidationError as exc:
        raise _invalid(channels, validation_reason(exc)) from exc
    except ValueError as exc:
        raise _invalid(channels, str(exc)) from exc


@router.post(
    "/sms",
    summary="Twilio: a message came in (SMS/MMS)",
    response_class=Response,
    responses=RESPONSES,
    openapi_extra=OPENAPI,
)
async def sms(request: Request, channels: ChannelsDep, signature: Signature = None) -> Response:
    params = await _signed_params(request, channels, signature)
    message = _mapped(channels, payload.sms_message, params)
    # Published before the number is remembered: Twilio does not retry a failed webhook by
    # default, so a store failure must not lose the message (a reply would then go out from
    # the account's first number).
    published = await channels.sink.put(message)
    if message.to_number:  # the reply goes out from the number the customer texted
        await channels.recipients.remember(
            "sms", message.from_number, Recipient(PLATFORM, message.to_number)
        )
    channels.metrics.received.labels(PLATFORM, "published" if published else "duplicate").inc()
    return _twiml()


@router.post(
    "/voice",
    summary="Twilio: a call's status (published once, when the call is over)",
    response_class=Response,
    responses=RESPONSES,
    openapi_extra=OPENAPI,
)
async def voice(request: Request, channels: ChannelsDep, signature: Signature = None) -> Response:
    params = await _signed_params(request, channels, signature)
    call = _mapped(channels, payload.phone_call, params)
    if isinstance(call, payload.Ignored):
        log.debug("twilio call %s acknowledged: %s", payload.first(params, "CallSid"), call.reason)
        channels.metrics.received.labels(PLATFORM, "ignored").inc()
        return _twiml()
    published = await channels.sink.put(call)
    channels.metrics.received.labels(PLATFORM, "published" if published else "duplicate").inc()
    return _twiml()
