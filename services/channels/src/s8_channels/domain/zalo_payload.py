"""Zalo Official Account webhooks, pure: the signature and one event mapped to its outcome.

Zalo signs `sha256(app_id + raw body + timestamp + OA secret key)` (plain SHA-256, not an
HMAC), with `app_id` and `timestamp` read from the body: the body is parsed before it can be
checked, but the hash is over the bytes as received, never over a re-serialisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from s8_channels.accounts import ZaloAccount
from s8_channels.api import SignatureRefused
from s8_channels.domain.platform_mapping import (
    ProfileUpdate,
    Skipped,
    Unmappable,
    as_dict,
    attachment_items,
    attachment_url,
    clip,
    filename_from_url,
    from_millis,
    hex_digest_matches,
    id_of,
    platform_id,
    sha256_hex,
    size_of,
    text_of,
)
from s8_shared.contracts import CustomerProfileUpsert, Identity, deterministic_id
from s8_shared.contracts.customers import ChannelFollow
from s8_shared.contracts.envelope import InvalidMessage, validation_reason
from s8_shared.contracts.inbound import Attachment, SocialMessage, ValidationError

SIGNATURE_HEADER = "X-ZEvent-Signature"
MESSAGE_EVENTS = frozenset(
    {
        "user_send_text",
        "user_send_image",
        "user_send_link",
        "user_send_audio",
        "user_send_video",
        "user_send_sticker",
        "user_send_gif",
        "user_send_location",
        "user_send_file",
        "anonymous_send_text",
        "anonymous_send_image",
        "anonymous_send_file",
        "anonymous_send_sticker",
    }
)
FOLLOW_EVENTS = {"follow": True, "unfollow": False}
SUBMIT_INFO = "user_submit_info"
# The customer's own words are in no field of this event: a neutral line for the agent.
SHARED_INFO_TEXT = "Khách hàng đã chia sẻ thông tin liên hệ qua Zalo"

CONTENT_TYPES = {
    "image": "image/*",
    "gif": "image/gif",
    "sticker": "image/*",
    "audio": "audio/*",  # AMR, from the app's voice notes
    "video": "video/*",
    "file": "application/octet-stream",
    "link": "text/uri-list",
}

ZaloOutcome = SocialMessage | ProfileUpdate | Skipped


@dataclass(frozen=True)
class SignedFields:
    app_id: str
    timestamp: str


def signed_fields(data: dict[str, Any]) -> SignedFields:
    """The body's fields the signature covers; SignatureRefused when absent (unverifiable)."""
    fields = []
    for name in ("app_id", "timestamp"):
        value = data.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value:
            raise SignatureRefused(f"no `{name}` in the body to check the signature with")
        fields.append(value)
    return SignedFields(app_id=fields[0], timestamp=fields[1])


def event_oa_id(data: dict[str, Any]) -> str | None:
    """The OA an event is about: `oa_id` when given, else the recipient of a customer's
    message or the sender of an OA's own."""
    name = data.get("event_name")
    party = "sender" if isinstance(name, str) and name.startswith("oa_") else "recipient"
    for value in (data.get("oa_id"), as_dict(data.get(party)).get("id")):
        try:
            return platform_id(value, "oa")
        except Unmappable:
            continue
    return None


def pick_account(
    accounts: Sequence[ZaloAccount], app_id: str, oa_id: str | None
) -> ZaloAccount | None:
    """The account of this app (and OA, when one app serves several OAs)."""
    of_app = [account for account in accounts if account.app_id == app_id]
    return next((a for a in of_app if a.oa_id == oa_id), of_app[0] if of_app else None)


def check_signature(body: bytes, fields: SignedFields, secret_key: str, header: str | None) -> None:
    """SignatureRefused unless `header` is `mac=` + sha256(app_id + body + timestamp + key)."""
    if not header:
        raise SignatureRefused(f"no {SIGNATURE_HEADER} header")
    name, sep, mac = header.partition("=")
    if not sep or name.strip().lower() != "mac":
        raise SignatureRefused(f"{SIGNATURE_HEADER} is not a mac=<hex> signature")
    expected = sha256_hex(
        fields.app_id.encode(), body, fields.timestamp.encode(), secret_key.encode()
    )
    if not hex_digest_matches(expected, mac):
        raise SignatureRefused(f"{SIGNATURE_HEADER} does not match the body")


def parse_event(data: dict[str, Any], oa_id: str) -> ZaloOutcome:
    """The event's outcome; InvalidMessage when the body is no Zalo event at all. `oa_id` is
    the account's, for events that do not name their OA."""
    name = data.get("event_name")
    if not isinstance(name, str) or not name:
        raise InvalidMessage("not a Zalo event: no `event_name`")
    try:
        if name in MESSAGE_EVENTS:
            return message_of(data)
        if name == SUBMIT_INFO:
            return shared_info_of(data)
        if name in FOLLOW_EVENTS:
            return follow_of(data, name, oa_id)
    except Unmappable as exc:
        return Skipped("zalo", "invalid", f"{name}: {exc.reason}")
    except ValidationError as exc:
        return Skipped("zalo", "invalid", f"{name}: {validation_reason(exc)}")
    # Receipts, seen marks, the OA's own messages, clicks, reactions, tags...
    return Skipped("zalo", "ignored", name[:64])


def message_of(data: dict[str, Any]) -> SocialMessage:
    message = data.get("message")
    if not isinstance(message, dict):
        raise Unmappable("no `message`")
    sender = id_of(data.get("sender"), "sender")
    return SocialMessage(
        platform="zalo",
        channel_message_id=platform_id(message.get("msg_id"), "message.msg_id"),
        page_id=id_of(data.get("recipient"), "recipient"),
        sender_id=sender,
        thread_id=sender,
        received_at=from_millis(data.get("timestamp")),
        text=text_of(message.get("text"), "message.text"),
        attachments=attachments_of(message.get("attachments")),
        raw=data,
    )


def shared_info_of(data: dict[str, Any]) -> SocialMessage:
    """The consent form's answer: a phone Zalo vouches for, as the sender's shared phone."""
    info = data.get("info")
    if not isinstance(info, dict):
        raise Unmappable("no `info`")
    sender = id_of(data.get("sender"), "sender")
    return SocialMessage(
        platform="zalo",
        channel_message_id=f"submit_info:{sender}:{data.get('timestamp')}",
        page_id=id_of(data.get("recipient"), "recipient"),
        sender_id=sender,
        sender_name=optional_text(info.get("name"), 200),
        thread_id=sender,
        received_at=from_millis(data.get("timestamp")),
        text=SHARED_INFO_TEXT,
        shared_phone=optional_text(info.get("phone"), 64),  # over 32: invalid, not cut
        raw=data,
    )


def follow_of(data: dict[str, Any], name: str, oa_id: str) -> ProfileUpdate:
    user = id_of(data.get("follower"), "follower")
    oa = platform_id(data["oa_id"], "oa_id") if "oa_id" in data else oa_id
    at = from_millis(data.get("timestamp"))
    if at is None:
        raise Unmappable("no `timestamp`")
    return ProfileUpdate(
        "zalo",
        CustomerProfileUpsert(
            # The same event re-sent by Zalo is the same upsert: applied once.
            upsert_id=str(deterministic_id("zalo", name, oa, user, data.get("timestamp"))),
            identities=[Identity(kind="zalo", value=user)],
            follow=ChannelFollow(account=f"zalo:{oa}", following=FOLLOW_EVENTS[name], at=at),
        ),
    )


def attachments_of(value: object) -> list[Attachment]:
    """Metadata only (the payload's url, name and size); a location's coordinates stay in
    `raw`, where the agent's view reads them."""
    found = []
    for kind, payload in attachment_items(value):
        url = attachment_url(payload.get("url"))
        found.append(
            Attachment(
                filename=filename_of(kind, payload, url),
                content_type=CONTENT_TYPES.get(kind, "application/octet-stream"),
                size_bytes=size_of(payload.get("size")),
                url=url,
            )
        )
    return found


def filename_of(kind: str, payload: dict[str, Any], url: str | None) -> str:
    """A file's own name, else the media URL's last segment, else the kind (a shared link's
    URL names a page, not a file)."""
    name = optional_text(payload.get("name"))
    if name:
        return name
    return filename_from_url(url, kind) if kind != "link" else kind


def optional_text(value: object, limit: int = 512) -> str | None:
    return (clip(value, limit) or None) if isinstance(value, str) else None
