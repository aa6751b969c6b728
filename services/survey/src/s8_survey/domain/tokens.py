"""Signed survey links: HMAC-SHA256 over (survey id, expiry), so a link cannot be forged,
moved to another survey or used after it expires."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime


class TokenRefused(ValueError):
    """Why a link is not accepted: forged, expired or malformed (`reason` is a code)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SurveyToken:
    survey_id: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(survey_id: str, expires_at: datetime, key: bytes) -> str:
    body = json.dumps(
        {"s": survey_id, "e": int(expires_at.timestamp())}, separators=(",", ":")
    ).encode()
    mac = hmac.new(key, body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def verify(token: str, key: bytes, now: datetime) -> SurveyToken:
    try:
        body_text, mac_text = token.split(".", 1)
        body, mac = _unb64(body_text), _unb64(mac_text)
    except (ValueError, TypeError) as exc:
        raise TokenRefused("malformed") from exc
    if not hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), mac):
        raise TokenRefused("forged")
    try:
        data = json.loads(body)
        parsed = SurveyToken(str(data["s"]), datetime.fromtimestamp(int(data["e"]), UTC))
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenRefused("malformed") from exc
    if now >= parsed.expires_at:
        raise TokenRefused("expired")
    return parsed
