"""Messenger and Instagram messages out through Meta's Send API.

`POST {meta_graph_url}/{page_id}/messages` with the page's access token and
`{"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": ...}}`; the
answer's `message_id` is the provider's id. The token goes in an `Authorization: Bearer`
header (which the Graph API accepts like the `access_token` parameter) so that it never
appears in a URL, where HTTP client logs and proxies would record it.

A text over Meta's 2,000-character limit is sent as several messages (`text.split_text`).
`RESPONSE` is only allowed inside Meta's 24-hour window after the customer's last message;
later, Meta refuses the send (a 4xx error, permanent here): such messages need a message tag,
which the outbound contract does not carry.

Graph errors: 429/5xx, the rate-limit codes (4, 17, 32, 613), the codes Meta documents as
temporary (1 unknown, 2 service) and any error flagged `is_transient` are transient; any other
4xx (a bad or expired token 190, a user who cannot be messaged 551, a closed window 10) is
permanent.
"""

from __future__ import annotations

from typing import Any

import httpx

from s8_channels.adapters.platform_http import json_body, post, segment, status_error
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
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
TEMPORARY_CODES = frozenset({1, 2})


class MetaSender:
    def __init__(self, settings: ChannelsSettings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client
        self.base_url = settings.meta_graph_url.rstrip("/")

    async def send(self, delivery: Delivery) -> SentReceipt:
        recipient = delivery.recipient
        if recipient is None:
            raise PermanentError("no page known for this customer (no message from them)")
        tokens = self.settings.meta.page_tokens if self.settings.meta else {}
        token = tokens.get(recipient.account)
        if token is None:
            raise PermanentError(
                f"no page token for {recipient.platform} account {recipient.account} (S8_META)"
            )
        url = f"{self.base_url}/{segment(recipient.account)}/messages"
        headers = {"Authorization": f"Bearer {token.get_secret_value()}"}
        ids: list[str] = []
        for text in split_text(delivery.request.text, TEXT_LIMIT, MAX_PARTS):
            body = {
                "recipient": {"id": delivery.request.to},
                "messaging_type": "RESPONSE",
                "message": {"text": text},
            }
            response = await post(self.client, url, json=body, headers=headers)
            if not response.is_success:
                raise graph_error(response)
            message_id = json_body(response).get("message_id")
            if message_id:
                ids.append(str(message_id))
        return SentReceipt(ids[0] if ids else None, tuple(ids))


def graph_error(response: httpx.Response) -> DeliveryError:
    error: Any = json_body(response).get("error")
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    subcode = error.get("error_subcode")
    detail = f"Graph error {code}" + (f"/{subcode}" if subcode else "")
    detail += f": {error.get('message', response.text[:200])}"
    if response.status_code == 429 or response.status_code >= 500:
        return status_error(response, detail)
    if code in RATE_LIMIT_CODES or code in TEMPORARY_CODES or error.get("is_transient") is True:
        return TransientError(f"HTTP {response.status_code}: {detail}")
    return PermanentError(f"HTTP {response.status_code}: {detail}")
