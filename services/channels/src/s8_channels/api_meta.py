"""Meta's webhook (Messenger pages and Instagram accounts of one Meta app).

`GET` answers Meta's subscription handshake. `POST` checks `X-Hub-Signature-256` on the raw
body before reading it, then puts every customer message of the batch on
`support.inbound.v1` and answers 200 (what Meta expects) once they all are.

With no Meta app configured, the handshake is refused (403) and every event too (401): nothing
could verify them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Security
from fastapi.responses import PlainTextResponse
from fastapi.security import APIKeyHeader, APIKeyQuery

from s8_channels import api as signatures
from s8_channels.api import SignatureRefused
from s8_channels.context import channels_of
from s8_channels.domain import meta_payload
from s8_channels.service import webhook_publishing as publishing
from s8_channels.service.webhook_publishing import WebhookReceipt
from s8_shared.contracts.envelope import InvalidMessage, load_json_object

router = APIRouter(prefix="/v1/channels/meta", tags=["meta"])

_signature = APIKeyHeader(
    name=meta_payload.SIGNATURE_HEADER,
    scheme_name="metaSignature",
    description="`sha256=` + hex HMAC-SHA256 of the raw request body with the Meta app secret "
    "(App Dashboard → Settings → Basic).",
    auto_error=False,  # a missing header is refused as a signature failure, counted
)
MetaSignature = Annotated[str | None, Security(_signature)]
_verify_token = APIKeyQuery(
    name="hub.verify_token",
    scheme_name="metaVerifyToken",
    description="The verify token configured in S8_META and typed in Meta's webhook settings.",
    auto_error=False,  # refused with 403, as Meta's handshake expects
)
JSON_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Meta's batch: `{object: page|instagram, entry: [{id, time, messaging}]}`.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.get(
    "/webhook",
    summary="Meta's subscription handshake",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {}}, "description": "hub.challenge, echoed."},
        403: {"description": "Not a subscribe request, wrong verify token, or no Meta app."},
    },
)
async def verify_subscription(
    request: Request,
    mode: Annotated[str | None, Query(alias="hub.mode", max_length=32)] = None,
    token: Annotated[str | None, Security(_verify_token)] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=256)] = None,
) -> PlainTextResponse:
    meta = channels_of(request).settings.meta
    if (
        meta is None
        or mode != "subscribe"
        or not challenge
        or token is None
        or not meta_payload.verify_token_matches(meta.verify_token.get_secret_value(), token)
    ):
        raise HTTPException(403, "not a subscription request with the configured verify token")
    return PlainTextResponse(challenge)


@router.post(
    "/webhook",
    summary="Meta's messaging events (Messenger, Instagram)",
    response_model=WebhookReceipt,
    responses={
        400: {"description": "The body is not JSON, or not a Meta webhook batch."},
        401: {"description": "X-Hub-Signature-256 missing or wrong (counted)."},
    },
    openapi_extra=JSON_BODY,
)
async def receive_events(request: Request, signature: MetaSignature) -> WebhookReceipt:
    channels = channels_of(request)
    body = await request.body()
    meta = channels.settings.meta
    try:
        if meta is None:
            raise SignatureRefused("no Meta app is configured")
        meta_payload.check_signature(meta.app_secret.get_secret_value().encode(), body, signature)
    except SignatureRefused as exc:
        raise signatures.refuse(request, "meta", exc.reason) from None
    try:
        data = load_json_object(body, max_bytes=channels.settings.max_body_bytes)
        outcomes = meta_payload.parse_batch(data)
    except InvalidMessage as exc:
        raise HTTPException(400, exc.reason) from None
    return await publishing.take(channels, outcomes)
