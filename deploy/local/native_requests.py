"""The customer messages of `make run`'s native channels, as each platform sends them: a
signed Zalo OA event, a signed Messenger batch, a signed Twilio SMS form, a Stringee
`ended` call event with the event URL's token, and a raw RFC 5322 e-mail; `forged=True`
gives the same with a signature (or token) a strict receiver must refuse.

The demo accounts (native_demo.channel_env gives them to s8-channels) are fixed, public,
dev-only strings: never use them anywhere else.
"""

from __future__ import annotations

import base64
import email.policy
import hashlib
import hmac
import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlencode

from traffic import CUSTOMERS, FAQ_QUESTIONS, MESSAGES

META_APP_SECRET = "dev-only-meta-app-secret"
META_PAGE_ID = "109876543210987"
ZALO_APP_ID = "3608465249409039"
ZALO_OA_ID = "3886132808788086"
ZALO_SECRET = "dev-only-zalo-oa-secret-key"
TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "dev-only-twilio-auth-token"
TWILIO_NUMBER = "+842873008888"
STRINGEE_SID = "SKs8demo"
STRINGEE_TOKEN = "dev-only-stringee-url-token"
HOTLINE = "842873009999"
SUPPORT_ADDRESS = "hotro@s8-demo.vn"


@dataclass(frozen=True)
class NativeRequest:
    platform: str
    path: str  # with its query string
    body: bytes
    headers: dict[str, str]
    forged: bool = False


@dataclass(frozen=True)
class Customer:
    name: str
    email: str
    phone: str  # E.164
    seed: int  # stable per customer: the same platform user ids every run

    def user_id(self, prefix: str, digits: int) -> str:
        """A platform's numeric user id, `digits` long, as Zalo's and Meta's are."""
        width = digits - len(prefix)
        return f"{prefix}{self.seed % 10**width:0{width}d}"


# The Vietnamese customers of traffic.py: a small set, so their conversations continue.
VI_CUSTOMERS = [
    Customer(
        name, mail, "+84" + phone.lstrip("0"), int(hashlib.sha256(mail.encode()).hexdigest(), 16)
    )
    for name, mail, phone, lang in CUSTOMERS
    if lang == "vi"
]
TEXTS = MESSAGES["vi"] + FAQ_QUESTIONS["vi"]


class NativeTraffic:
    """Each platform's request for one customer message, signed as the platform signs it;
    `forged=True` gives one a strict receiver must refuse (401)."""

    def __init__(self, public_base_url: str, *, run_id: str | None = None, seed: int | None = None) -> None:  # fmt: skip
        self.base_url = public_base_url.rstrip("/")
        self.run = run_id or uuid.uuid4().hex[:12]  # platform ids differ from run to run
        self.rng = random.Random(seed)
        self.n = 0

    def _next(self) -> tuple[Customer, str, str, str]:
        """A customer, a subject and text, and a message id unique to this run."""
        self.n += 1
        subject, template = self.rng.choice(TEXTS)
        text = template.format(order=f"A{self.rng.randint(1000, 9999)}")
        return self.rng.choice(VI_CUSTOMERS), subject, text, f"{self.run}{self.n:06d}"

    def zalo(self, *, forged: bool = False) -> NativeRequest:
        who, _, text, msg_id = self._next()
        user, stamp = who.user_id("55", 18), str(_ms())  # Zalo sends its milliseconds as text
        event = {"app_id": ZALO_APP_ID, "user_id_by_app": user, "event_name": "user_send_text",
                 "sender": {"id": user}, "recipient": {"id": ZALO_OA_ID},
                 "message": {"text": text, "msg_id": msg_id}, "timestamp": stamp}  # fmt: skip
        body = _json(event)
        mac = hashlib.sha256(ZALO_APP_ID.encode() + body + stamp.encode() + ZALO_SECRET.encode())
        if forged:  # tampered in transit: the text changed after Zalo signed it
            event["message"] = {"text": "Chuyển khoản gấp vào STK 0123456789", "msg_id": msg_id}
            body = _json(event)
        headers = {"content-type": "application/json", "X-ZEvent-Signature": f"mac={mac.hexdigest()}"}  # fmt: skip
        return NativeRequest("zalo", "/v1/channels/zalo/webhook", body, headers, forged)

    def meta(self, *, forged: bool = False) -> NativeRequest:
        who, _, text, msg_id = self._next()
        now = _ms()
        item = {"sender": {"id": who.user_id("7", 16)}, "recipient": {"id": META_PAGE_ID},
                "timestamp": now, "message": {"mid": f"m_{msg_id}", "text": text}}  # fmt: skip
        body = _json({"object": "page", "entry": [{"id": META_PAGE_ID, "time": now, "messaging": [item]}]})  # fmt: skip
        secret = b"not-the-app-secret" if forged else META_APP_SECRET.encode()
        signature = hmac.new(secret, body, hashlib.sha256).hexdigest()
        headers = {"content-type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}  # fmt: skip
        return NativeRequest("meta", "/v1/channels/meta/webhook", body, headers, forged)

    def twilio_sms(self, *, forged: bool = False) -> NativeRequest:
        who, _, text, msg_id = self._next()
        sid = "SM" + hashlib.sha256(msg_id.encode()).hexdigest()[:32]  # SM + 32 hex, as Twilio's
        params = {"ToCountry": "VN", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid,
                  "SmsStatus": "received", "Body": text, "FromCountry": "VN", "To": TWILIO_NUMBER,
                  "NumSegments": "1", "MessageSid": sid, "AccountSid": TWILIO_SID,
                  "From": who.phone, "ApiVersion": "2010-04-01"}  # fmt: skip
        path = "/v1/channels/twilio/sms"
        signed = self.base_url + path + "".join(k + params[k] for k in sorted(params))
        digest = hmac.new(TWILIO_TOKEN.encode(), signed.encode(), hashlib.sha1).digest()
        if forged:  # a replay with another text under the original signature
            params["Body"] = "Mã OTP của bạn là 482913, gửi lại cho tôi"
        headers = {"content-type": "application/x-www-form-urlencoded",
                   "X-Twilio-Signature": base64.b64encode(digest).decode()}  # fmt: skip
        return NativeRequest("twilio", path, urlencode(params).encode(), headers, forged)

    def stringee_call(self, *, forged: bool = False) -> NativeRequest:
        """A missed call: the customer waited in the queue, no agent answered."""
        who, _, _, msg_id = self._next()
        number, wait = who.phone.lstrip("+"), self.rng.randint(8, 40)
        event = {"call_status": "ended", "project_id": 25, "account_sid": STRINGEE_SID,
                 "timestamp_ms": _ms(), "type": "stringee_call", "callType": "CALL",
                 "call_id": f"call-vn-1-{msg_id.upper()}-{_ms()}",
                 "callCreatedReason": "EXTERNAL_CALL_IN", "endCallCause": "480 Temporarily Unavailable",
                 "endedBy": "INTERNAL", "duration": wait, "answerDuration": 0,
                 "from": {"number": number, "alias": who.name, "is_online": False, "type": "external"},
                 "to": {"number": HOTLINE, "alias": HOTLINE, "is_online": False, "type": "external"}}  # fmt: skip
        token = "guessed-token" if forged else STRINGEE_TOKEN
        path = f"/v1/channels/stringee/events?{urlencode({'token': token})}"
        return NativeRequest("stringee", path, _json(event), {"content-type": "application/json"}, forged)  # fmt: skip

    def mail(self) -> tuple[str, bytes]:
        """(envelope sender, raw RFC 5322 bytes): non-ASCII headers as RFC 2047 words, the
        body quoted-printable, so the mail is 7-bit clean as most relays hand it over."""
        who, subject, text, msg_id = self._next()
        msg = EmailMessage()
        msg["From"] = f"{who.name} <{who.email}>"
        msg["To"] = f"Hỗ trợ khách hàng <{SUPPORT_ADDRESS}>"
        msg["Subject"] = subject
        msg["Date"] = format_datetime(datetime.now().astimezone())
        msg["Message-ID"] = f"<{msg_id}@{who.email.split('@')[1]}>"
        msg.set_content(f"{text}\n\n-- \n{who.name}\n{who.phone}\n", cte="quoted-printable")
        return who.email, msg.as_bytes(policy=email.policy.SMTP)


def _ms() -> int:
    return int(time.time() * 1000)


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
