"""Zalo Official Account webhook: one event per request, from the Zalo app the OA granted.

The account is found by the body's `app_id` (unknown app: 401), the `X-ZEvent-Signature`
checked with its OA secret key, then a customer's message goes to `support.inbound.v1`, a
follow or unfollow to `support.customers.v1`, and anything else is acknowledged. Zalo wants
its 200 within about 2 s, sent here once the event is published.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from s8_channels import api as signatures
from s8_channels.api import SignatureRefused
from s8_channels.context import channels_of
from s8_channels.domain import zalo_payload
from s8_channels.service import webhook_publishing as publishing
from s8_channels.service.webhook_publishing import WebhookReceipt
from s8_shared.contracts.envelope import InvalidMessage, load_json_object

router = APIRouter(prefix="/v1/channels/zalo", tags=["zalo"])

_signature = APIKeyHeader(
    name=zalo_payload.SIGNATURE_HEADER,
    scheme_name="zaloSignature",
    description="`mac=` + hex SHA-256 of app_id + raw request body + timestamp + OA secret "
    "key, with app_id and timestamp read from the body.",
    auto_error=False,  # a missing header is refused as a signature failure, counted
)
ZaloSignature = Annotated[str | None, Security(_signature)]
JSON_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "One Zalo OA event: `{app_id, event_name, timestamp, sender, recipient, "
        "message | follower | info, ...}`.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.post(
    "/webhook",
    summary="Zalo OA events",
    response_model=WebhookReceipt,
    responses={
        400: {"description": "The body is not JSON, or not a Zalo event."},
        401: {"description": "Unknown app_id, or X-ZEvent-Signature missing or wrong (counted)."},
    },
    openapi_extra=JSON_BODY,
)
async def receive_event(request: Request, signature: ZaloSignature) -> WebhookReceipt:
    channels = channels_of(request)
    body = await request.body()
    try:  # the signature names fields of the body: it is read (bounded) before the check
        data = load_json_object(body, max_bytes=channels.settings.max_body_bytes)
    except InvalidMessage as exc:
        raise HTTPException(400, exc.reason) from None
    try:
        fields = zalo_payload.signed_fields(data)
        account = zalo_payload.pick_account(
            channels.settings.zalo_accounts, fields.app_id, zalo_payload.event_oa_id(data)
        )
        if account is None:
            raise SignatureRefused("no Zalo account is configured for this app_id")
        zalo_payload.check_signature(body, fields, account.secret_key.get_secret_value(), signature)
    except SignatureRefused as exc:
        raise signatures.refuse(request, "zalo", exc.reason) from None
    try:
        outcome = zalo_payload.parse_event(data, account.oa_id)
    except InvalidMessage as exc:
        raise HTTPException(400, exc.reason) from None
    return await publishing.take(channels, [outcome])
