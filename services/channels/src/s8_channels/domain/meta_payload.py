"""Meta webhooks (Messenger pages and Instagram accounts), pure: the signature over the raw
body, and a batch mapped to one outcome per messaging item.

One request may carry several entries (pages) and each several messaging items; every one is
mapped on its own, so one malformed item is counted invalid without losing the others (Meta
would re-send the whole batch on an error).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Literal

from s8_channels.api import SignatureRefused
from s8_channels.domain.platform_mapping import (
    Skipped,
    Unmappable,
    attachment_items,
    attachment_url,
    constant_time_equal,
    filename_from_url,
    from_millis,
    hex_digest_matches,
    id_of,
    platform_id,
    text_of,
)
from s8_shared.contracts.envelope import InvalidMessage, validation_reason
from s8_shared.contracts.inbound import Attachment, SocialMessage, ValidationError

MetaPlatform = Literal["facebook", "instagram"]

SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="
PLATFORMS: dict[str, MetaPlatform] = {"page": "facebook", "instagram": "instagram"}

# What Meta tells of a media attachment: its kind, not its exact type.
CONTENT_TYPES = {
    "image": "image/*",
    "sticker": "image/*",
    "video": "video/*",
    "reel": "video/*",
    "ig_reel": "video/*",
    "audio": "audio/*",
    "file": "application/octet-stream",
    "fallback": "text/uri-list",  # a shared link
}
MEDIA = frozenset({"image", "sticker", "video", "reel", "ig_reel", "audio", "file"})
# Messaging items that are not a customer's message (delivery and read receipts, reactions,
# button clicks, referrals, opt-ins, handover...): acknowledged, counted as ignored.
NOT_MESSAGES = (
    "delivery",
    "read",
    "reaction",
    "postback",
    "referral",
    "optin",
    "message_edit",
    "account_linking",
    "policy_enforcement",
    "pass_thread_control",
    "take_thread_control",
    "request_thread_control",
    "app_roles",
)

MetaOutcome = SocialMessage | Skipped


def verify_token_matches(configured: str, supplied: str) -> bool:
    return constant_time_equal(configured, supplied)


def check_signature(app_secret: bytes, body: bytes, header: str | None) -> None:
    """SignatureRefused unless `header` is `sha256=` + HMAC-SHA256(app secret, raw body)."""
    if not header:
        raise SignatureRefused(f"no {SIGNATURE_HEADER} header")
    if header[: len(SIGNATURE_PREFIX)].lower() != SIGNATURE_PREFIX:
        raise SignatureRefused(f"{SIGNATURE_HEADER} is not a {SIGNATURE_PREFIX}<hex> signature")
    expected = hmac.new(app_secret, body, hashlib.sha256).hexdigest()
    if not hex_digest_matches(expected, header[len(SIGNATURE_PREFIX) :]):
        raise SignatureRefused(f"{SIGNATURE_HEADER} does not match the body")


def parse_batch(data: dict[str, Any]) -> list[MetaOutcome]:
    """One outcome per messaging item; InvalidMessage when the body is not a Meta batch."""
    kind = data.get("object")
    entries = data.get("entry")
    if not isinstance(kind, str):
        raise InvalidMessage("not a Meta webhook: no `object`")
    if not isinstance(entries, list):
        raise InvalidMessage("not a Meta webhook: `entry` is not a list")
    platform = PLATFORMS.get(kind)
    if platform is None:  # another product's webhook sent here: acknowledge, don't retry
        return [Skipped("meta", "ignored", f"object {kind[:64]!r}")]
    outcomes: list[MetaOutcome] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise InvalidMessage("not a Meta webhook: an entry is not an object")
        messaging = entry.get("messaging", [])
        if not isinstance(messaging, list):
            raise InvalidMessage("not a Meta webhook: `messaging` is not a list")
        outcomes.extend(map_item(platform, item) for item in messaging)
        # Messages another app is in control of (handover), and feed or comment changes:
        # not this inbox's conversation.
        for key in ("standby", "changes"):
            others = entry.get(key)
            if isinstance(others, list):
                outcomes.extend(Skipped(platform, "ignored", key) for _ in others)
    return outcomes


def map_item(platform: MetaPlatform, item: object) -> MetaOutcome:
    if not isinstance(item, dict):
        return Skipped(platform, "invalid", "a messaging item is not an object")
    message = item.get("message")
    if message is None:
        kind = next((key for key in NOT_MESSAGES if key in item), "unknown item")
        return Skipped(platform, "ignored", kind)
    if not isinstance(message, dict):
        return Skipped(platform, "invalid", "`message` is not an object")
    if message.get("is_echo") is True:  # the page's own message, sent by us or another app
        return Skipped(platform, "ignored", "echo")
    if message.get("is_deleted") is True:  # Instagram's unsend
        return Skipped(platform, "ignored", "deleted")
    if message.get("is_unsupported") is True:  # Instagram: media Meta does not deliver
        return Skipped(platform, "ignored", "unsupported")
    try:
        sender = id_of(item.get("sender"), "sender")
        return SocialMessage(
            platform=platform,
            channel_message_id=platform_id(message.get("mid"), "message.mid"),
            page_id=id_of(item.get("recipient"), "recipient"),
            sender_id=sender,
            thread_id=sender,  # one conversation per customer per page
            received_at=from_millis(item.get("timestamp")),
            text=text_of(message.get("text"), "message.text"),
            attachments=attachments_of(message.get("attachments")),
            raw=item,
        )
    except Unmappable as exc:
        return Skipped(platform, "invalid", exc.reason)
    except ValidationError as exc:
        return Skipped(platform, "invalid", validation_reason(exc))


def attachments_of(value: object) -> list[Attachment]:
    """Metadata only: Meta's URLs are short-lived CDN links, the bytes are not fetched here."""
    found = []
    for kind, payload in attachment_items(value):
        url = attachment_url(payload.get("url"))
        found.append(
            Attachment(
                filename=filename_from_url(url, kind) if kind in MEDIA else kind[:64],
                content_type=CONTENT_TYPES.get(kind, "application/octet-stream"),
                url=url,
            )
        )
    return found
