"""Any channel's inbound message in one shape, `NormalizedMessage`. Pure, no I/O."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, assert_never

from s8_intake.domain.candidates import asserted_by_sender, candidates, mentioned
from s8_intake.domain.email_message import (
    NO_TEXT,
    email_message,
    email_skip_reason,
    ticket_token,
)
from s8_intake.domain.identities import (
    identity_for_email,
    identity_for_id,
    identity_for_phone,
    is_vietnamese_number,
    normalize_phone,
    phone_digits,
    unique,
)
from s8_intake.domain.model import NormalizedMessage
from s8_shared.contracts import Identity
from s8_shared.contracts.inbound import (
    MAX_TEXT_CHARS,
    MAX_TRANSCRIPT_CHARS,
    MAX_TRANSCRIPT_LINE_CHARS,
    MAX_TRANSCRIPT_LINES,
    ChatbotConversation,
    EmailMessage,
    InboundMessage,
    LiveChatMessage,
    OnSiteRequest,
    PhoneCall,
    SmsMessage,
    SocialMessage,
    TranscriptLine,
    WebFormSubmission,
)

_CALL_TEXT: dict[tuple[bool, str], str] = {  # (Vietnamese?, outcome) -> text
    (True, "missed"): "Cuộc gọi nhỡ từ {number}",
    (True, "abandoned"): "Cuộc gọi từ {number} bị ngắt khi đang chờ",
    (True, "answered"): "Cuộc gọi từ {number} ({seconds} giây)",
    (False, "missed"): "Missed call from {number}",
    (False, "abandoned"): "Abandoned call from {number} (hung up while waiting)",
    (False, "answered"): "Call from {number} ({seconds} seconds)",
}


def normalize(
    message: InboundMessage, *, own_addresses: frozenset[str] = frozenset()
) -> NormalizedMessage:
    """The channel message as a `NormalizedMessage`; `own_addresses` are s8's own mailboxes.
    Its text and transcript are within the sizes every event can carry (cuts recorded)."""
    msg = bounded(_normalized(message, own_addresses))
    asserted = [*asserted_by_sender(message), *((i, "text") for i in mentioned(msg.text))]
    return replace(msg, candidates=candidates(asserted, proven=msg.identities))


def bounded(msg: NormalizedMessage) -> NormalizedMessage:
    """The text cut at MAX_TEXT_CHARS (an HTML body converts to up to ten times that) and
    the transcript's latest lines kept within MAX_TRANSCRIPT_CHARS, each cut recorded."""
    cut_from = msg.text_cut_from or (len(msg.text) if len(msg.text) > MAX_TEXT_CHARS else None)
    kept: list[TranscriptLine] = []
    budget = MAX_TRANSCRIPT_CHARS
    for line in reversed(msg.transcript):  # the latest lines say most about the handoff
        if budget <= 0 or len(kept) >= MAX_TRANSCRIPT_LINES:
            break
        text = line.text[: min(budget, MAX_TRANSCRIPT_LINE_CHARS)]
        kept.append(line if text == line.text else line.model_copy(update={"text": text}))
        budget -= len(text)
    if (
        cut_from is None
        and len(kept) == len(msg.transcript)
        and all(a is b for a, b in zip(reversed(kept), msg.transcript, strict=True))
    ):
        return msg
    return replace(
        msg,
        text=msg.text[:MAX_TEXT_CHARS],
        text_cut_from=cut_from,
        transcript=tuple(reversed(kept)),
        transcript_omitted=len(msg.transcript) - len(kept),
    )


def _normalized(message: InboundMessage, own_addresses: frozenset[str]) -> NormalizedMessage:
    match message:
        case EmailMessage():
            return email_message(message, own_addresses)
        case LiveChatMessage():
            return _live_chat(message)
        case SocialMessage():
            return _social(message)
        case PhoneCall():
            return _phone(message)
        case SmsMessage():
            return _sms(message)
        case WebFormSubmission():
            return _web_form(message)
        case ChatbotConversation():
            return _chatbot(message)
        case OnSiteRequest():
            return _on_site(message)
        case _:
            assert_never(message)


def _visitor_message(message: LiveChatMessage | ChatbotConversation) -> dict[str, Any]:
    """What a chat visitor's message and a bot conversation have in common."""
    return {
        "channel": message.channel_kind,
        "dedup_key": message.dedup_key(),
        "sent_at": message.received_at,
        "text": _text(message.text),
        "identities": _visitor(message.visitor_id, message.visitor_email, message.visitor_phone),
        "display_name": message.visitor_name,
        "transcript": tuple(message.transcript),
        "reply_address": message.visitor_id,
    }


def _live_chat(message: LiveChatMessage) -> NormalizedMessage:
    return NormalizedMessage(
        **_visitor_message(message),
        conversation_key=f"live_chat:{message.session_id}",
        public=True,
        details=_compact(page_url=message.page_url),
    )


def _chatbot(message: ChatbotConversation) -> NormalizedMessage:
    return NormalizedMessage(
        **_visitor_message(message),
        conversation_key=f"chatbot:{message.bot_conversation_id}",
        handoff_requested=message.handoff_requested,
        handoff_reason=message.handoff_reason,
        bot_confidence=message.bot_confidence,
    )


def _social(message: SocialMessage) -> NormalizedMessage:
    public = message.kind == "public_comment"
    return NormalizedMessage(
        channel=message.channel_kind,
        dedup_key=message.dedup_key(),
        sent_at=message.received_at,
        text=_text(message.text),
        # A phone the platform vouches for (Zalo's consent form) is proven, as the sender is.
        identities=unique(
            [
                identity_for_id(message.platform, message.sender_id),
                identity_for_phone(message.shared_phone),
            ]
        ),
        display_name=message.sender_name,
        conversation_key=f"social:{message.platform}:{message.thread_id}",
        # The customer wrote in public (a comment under a post), not a private message.
        public=public,
        reply_address=message.sender_id,
        details=_compact(
            platform=message.platform,
            page_id=message.page_id,
            post_id=message.post_id,
            public_comment=public,
        ),
    )


def _sms(message: SmsMessage) -> NormalizedMessage:
    number = _number(message.from_number)
    return NormalizedMessage(
        channel=message.channel_kind,
        dedup_key=message.dedup_key(),
        sent_at=message.received_at,
        text=_text(message.text),
        identities=(Identity(kind="phone", value=number),),
        conversation_key=f"sms:{number}",
        # A customer quoting a ticket's `[#T-…]` (from an acknowledgement) names it.
        ticket_token=ticket_token(message.text),
        reply_address=number,
        details=_compact(to_number=message.to_number or None),
    )


def _phone(message: PhoneCall) -> NormalizedMessage:
    number = _number(message.caller_number)
    dialled = normalize_phone(message.dialled_line) or message.dialled_line.strip()
    text = message.voicemail_transcript or message.notes or ""
    if not text.strip():
        vietnamese = is_vietnamese_number(number) or is_vietnamese_number(dialled)
        text = call_description(message, number, vietnamese=vietnamese)
    return NormalizedMessage(
        channel=message.channel_kind,
        dedup_key=message.dedup_key(),
        sent_at=message.received_at,
        text=text.strip(),
        identities=(Identity(kind="phone", value=number),),
        display_name=message.caller_name,
        conversation_key=f"phone:{number}",
        ivr_path=message.ivr_path or None,
        reply_address=number,
        details={
            "duration_seconds": message.duration_seconds,
            "missed": message.missed,
            "abandoned": message.abandoned,
            "dialled_line": dialled,
        },
    )


def call_description(message: PhoneCall, number: str, *, vietnamese: bool) -> str:
    """A neutral sentence standing in for a call nobody wrote anything about."""
    outcome = "missed" if message.missed else "abandoned" if message.abandoned else "answered"
    template = _CALL_TEXT[vietnamese, outcome]
    return template.format(number=number, seconds=message.duration_seconds)


def _web_form(message: WebFormSubmission) -> NormalizedMessage:
    email = identity_for_email(message.email)
    phone = identity_for_phone(message.phone)
    if email is None and phone is None and message.phone:
        # An unparseable phone is still the only way to reach this customer.
        phone = Identity(kind="phone", value=phone_digits(message.phone))
    reply = email or phone
    return NormalizedMessage(
        channel=message.channel_kind,
        dedup_key=message.dedup_key(),
        sent_at=message.received_at,
        text=_text(message.text),
        # A form proves nothing: its first contact is whom we answer (and who the customer
        # is if nobody owns it yet); the other one is only a candidate.
        identities=unique([reply]),
        display_name=message.name,
        subject=message.subject or None,
        customer_category=message.category,
        reply_address=reply.value if reply else None,
        details=dict(message.fields),
    )


def _on_site(message: OnSiteRequest) -> NormalizedMessage:
    number = _number(message.phone)
    return NormalizedMessage(
        channel=message.channel_kind,
        dedup_key=message.dedup_key(),
        sent_at=message.received_at,
        text=_text(message.text),
        identities=(Identity(kind="phone", value=number),),
        display_name=message.name,
        region=message.region,
        reply_address=number,
        details=_compact(
            address=message.address,
            window_start=message.window_start.isoformat() if message.window_start else None,
            window_end=message.window_end.isoformat() if message.window_end else None,
            asset_model=message.asset_model,
            serial_number=message.serial_number,
        ),
    )


def _visitor(visitor_id: str, email: str | None, phone: str | None) -> tuple[Identity, ...]:
    """The visitor id: what the visitor types in the contact fields is only a candidate (a
    visitor may type anyone's address). Without a usable id, the first contact they gave."""
    anchor = identity_for_id("chat_visitor", visitor_id)
    return unique([anchor or identity_for_email(email) or identity_for_phone(phone)])


def _number(raw: str) -> str:
    """E.164 if valid, else the raw digits, so the caller is still identified."""
    return normalize_phone(raw) or phone_digits(raw)


def _text(text: str) -> str:
    return text.strip() or NO_TEXT


def _compact(**values: Any) -> dict[str, Any]:
    """Details without the unset ones, so `details` only lists what the channel told us."""
    return {k: v for k, v in values.items() if v is not None}


__all__ = ["NO_TEXT", "call_description", "email_skip_reason", "normalize", "ticket_token"]
