"""Zalo messages out through the Official Account message API (consultation message).

`POST {zalo_api_url}/v3.0/oa/message/cs` with the OA's token in an `access_token` header and
`{"recipient": {"user_id": ...}, "message": {"text": ...}}`. Zalo answers HTTP 200 for
refusals too: `{"error": 0, "data": {"message_id": ...}}` is a success, any other `error` a
failure. A text over the 2,000-character limit goes as several messages.

Error codes (from Zalo's OA error table `official-account/phu-luc/ma-loi`, as quoted by
several independent integrations; the official pages could not be read from here):
- -32 (the app's or OA's per-minute rate limit) is transient, as are -200 ("send message
  failed", no cause given) and -214 ("being processed"): retried a few times with backoff;
- -216 (invalid token), -220 (expired or revoked token) and -124 (the invalid-token code of
  Zalo's ZNS API) are permanent here: this service holds no refresh token, an operator must
  set a new access token (it lives 25 hours);
- every other code is permanent: -213 the user does not follow the OA, -230/-232 no
  interaction in the last 7 days (outside the consultation window), -201 bad parameter,
  -211/-218 quotas, -204/-205 OA disabled or unknown, ...
HTTP 429 and 5xx (undocumented by Zalo) are transient, like for every platform.
"""

from __future__ import annotations

import httpx

from s8_channels.accounts import ZaloAccount
from s8_channels.adapters.platform_http import json_body, post, status_error
from s8_channels.domain.delivery import (
    Delivery,
    DeliveryError,
    PermanentError,
    SentReceipt,
    TransientError,
)
from s8_channels.domain.text_split import split_text
from s8_channels.settings import ChannelsSettings

TEXT_LIMIT = 2000
MAX_PARTS = 5
TRANSIENT_CODES = frozenset({-32, -200, -214})
TOKEN_CODES = frozenset({-216, -220, -124})


class ZaloSender:
    def __init__(self, settings: ChannelsSettings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client
        self.url = f"{settings.zalo_api_url.rstrip('/')}/v3.0/oa/message/cs"

    def account(self, oa_id: str) -> ZaloAccount | None:
        return next((a for a in self.settings.zalo_accounts if a.oa_id == oa_id), None)

    async def send(self, delivery: Delivery) -> SentReceipt:
        recipient = delivery.recipient
        if recipient is None:
            raise PermanentError("no Zalo OA known for this customer (no message from them)")
        account = self.account(recipient.account)
        if account is None or account.access_token is None:
            raise PermanentError(
                f"no access token for Zalo OA {recipient.account} (S8_ZALO_ACCOUNTS)"
            )
        headers = {"access_token": account.access_token.get_secret_value()}
        ids: list[str] = []
        for text in split_text(delivery.request.text, TEXT_LIMIT, MAX_PARTS):
            body = {"recipient": {"user_id": delivery.request.to}, "message": {"text": text}}
            response = await post(self.client, self.url, json=body, headers=headers)
            if not response.is_success:
                raise status_error(response, response.text)
            answer = json_body(response)
            if "error" not in answer:  # not Zalo's envelope (a proxy's page): try again
                raise TransientError(f"unreadable answer: {response.text[:200]!r}")
            code = _int(answer.get("error"))
            if code != 0:
                raise zalo_error(code, str(answer.get("message", "")))
            data = answer.get("data")
            message_id = data.get("message_id") if isinstance(data, dict) else None
            if message_id:
                ids.append(str(message_id))
        return SentReceipt(ids[0] if ids else None, tuple(ids))


def zalo_error(code: int | None, message: str) -> DeliveryError:
    text = f"Zalo error {code}: {message}"
    if code in TRANSIENT_CODES:
        return TransientError(text)
    if code in TOKEN_CODES:
        return PermanentError(f"{text} (set a new OA access token)")
    return PermanentError(text)


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
