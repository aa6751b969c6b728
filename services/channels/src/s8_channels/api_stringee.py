"""Stringee's call events: the account named by `account_sid` must match the event URL's
`?token=` (Stringee documents no signature), each customer's call is put on the inbound
topic once it has ended, and Stringee gets a small JSON answer at once.

Set in Stringee (project or PCC call settings), as the event URL:
`{public_base_url}/v1/channels/stringee/events?token=<url_token>`.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Security
from fastapi.security import APIKeyQuery
from pydantic import ValidationError

from s8_channels import api as signatures
from s8_channels.context import Channels, channels_of
from s8_channels.domain import stringee_payload as payload
from s8_shared.contracts.envelope import validation_reason

log = logging.getLogger(__name__)
PLATFORM = "stringee"

router = APIRouter(prefix="/v1/channels/stringee", tags=["stringee"])
ChannelsDep = Annotated[Channels, Depends(channels_of)]
_token = APIKeyQuery(
    name="token",
    scheme_name="stringeeUrlToken",
    description="The account's `url_token`, put in the event URL configured in Stringee "
    "(Stringee documents no signature).",
    auto_error=False,  # a missing token is refused as a signature failure, counted
)
Token = Annotated[str | None, Security(_token)]

OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "not a JSON object, or an ended call s8 cannot represent"},
    401: {"description": "no token, an unknown account_sid, or a wrong token"},
}


def _invalid(channels: Channels, reason: str) -> HTTPException:
    channels.metrics.received.labels(PLATFORM, "invalid").inc()
    return HTTPException(400, reason)


def _authentic_event(
    request: Request, channels: Channels, body: bytes, token: str | None
) -> dict[str, Any]:
    """The event, once the token of the account it names matches the URL's."""
    if not token:
        raise signatures.refuse(request, PLATFORM, "no token in the event URL")
    try:
        event = payload.parse_event(body)
    except ValueError as exc:
        raise _invalid(channels, str(exc)) from exc
    sid = payload.account_sid(event)
    account = next((a for a in channels.settings.stringee_accounts if a.account_sid == sid), None)
    if account is None:
        raise signatures.refuse(request, PLATFORM, "unknown account_sid")
    if not payload.token_matches(account.url_token.get_secret_value(), token):
        raise signatures.refuse(request, PLATFORM, "the token does not match")
    return event


@router.post(
    "/events",
    summary="Stringee: a call's status changed (published once, when the call has ended)",
    responses=RESPONSES,
    openapi_extra=OPENAPI,
)
async def events(request: Request, channels: ChannelsDep, token: Token = None) -> dict[str, str]:
    event = _authentic_event(request, channels, await request.body(), token)
    try:
        call = payload.phone_call(event)
    except ValidationError as exc:
        raise _invalid(channels, validation_reason(exc)) from exc
    except ValueError as exc:
        raise _invalid(channels, str(exc)) from exc
    if isinstance(call, payload.Ignored):
        log.debug("stringee call %s acknowledged: %s", event.get("call_id"), call.reason)
        channels.metrics.received.labels(PLATFORM, "ignored").inc()
        return {"status": "ignored"}
    published = await channels.sink.put(call)
    outcome = "published" if published else "duplicate"
    channels.metrics.received.labels(PLATFORM, outcome).inc()
    return {"status": outcome}
