"""SMS out through Twilio's Messages API.

`POST {twilio_api_url}/2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic auth
(AccountSid, auth token), form fields To, From, Body; 201 Created carries the message's
`sid`. From is the number the customer texted (remembered by the webhook), else the first
number of the first account that has one. 429 and 5xx are transient, any other 4xx (an
invalid or unreachable number, an opted-out recipient: codes 21211, 21610, ...) permanent.

No idempotency header is sent: Twilio documents `I-Twilio-Idempotency-Token` only on the
webhooks it sends (to deduplicate its own retries), not as a REST API request header, so a
retry after a lost answer may send the SMS twice. A text over Twilio's 1,600-character body
limit is sent as several messages.
"""

from __future__ import annotations

import httpx

from s8_channels.accounts import TwilioAccount
from s8_channels.adapters.platform_http import json_body, post, segment, status_error
from s8_channels.adapters.recipients import Recipient
from s8_channels.domain.delivery import Delivery, DeliveryError, PermanentError, SentReceipt
from s8_channels.domain.text_split import split_text
from s8_channels.settings import ChannelsSettings

BODY_LIMIT = 1600
MAX_PARTS = 3


class TwilioSender:
    def __init__(self, settings: ChannelsSettings, client: httpx.AsyncClient) -> None:
        self.settings = settings
        self.client = client
        self.base_url = settings.twilio_api_url.rstrip("/")

    def line(self, recipient: Recipient | None) -> tuple[TwilioAccount, str]:
        """The account and number to send from: the one the customer texted if it is still
        configured, else the first configured number."""
        accounts = self.settings.twilio_accounts
        if recipient is not None:
            for account in accounts:
                if recipient.account in account.numbers:
                    return account, recipient.account
        for account in accounts:
            if account.numbers:
                return account, account.numbers[0]
        raise PermanentError("no Twilio number configured (S8_TWILIO_ACCOUNTS)")

    async def send(self, delivery: Delivery) -> SentReceipt:
        account, from_number = self.line(delivery.recipient)
        url = f"{self.base_url}/2010-04-01/Accounts/{segment(account.account_sid)}/Messages.json"
        auth = (account.account_sid, account.auth_token.get_secret_value())
        ids: list[str] = []
        for text in split_text(delivery.request.text, BODY_LIMIT, MAX_PARTS):
            form = {"To": delivery.request.to, "From": from_number, "Body": text}
            response = await post(self.client, url, data=form, auth=auth)
            if not response.is_success:
                raise twilio_error(response)
            sid = json_body(response).get("sid")
            if sid:
                ids.append(str(sid))
        return SentReceipt(ids[0] if ids else None, tuple(ids))


def twilio_error(response: httpx.Response) -> DeliveryError:
    body = json_body(response)
    detail = f"Twilio error {body.get('code')}: {body.get('message', response.text[:200])}"
    return status_error(response, detail)
