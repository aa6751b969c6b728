"""What other systems publish to `support.inbound.v1` (or POST to intake's webhook).

One model per channel, chosen by the `channel` field. Fields s8 does not model are kept,
untouched, in `raw`. Every model has the channel's own message id, used to store a
re-sent or redelivered message once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    ConfigDict,
    EmailStr,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from s8_shared.contracts.common import Channel
from s8_shared.contracts.inbound_base import (
    MAX_HTML_CHARS,
    MAX_TEXT_CHARS,
    MAX_TRANSCRIPT_CHARS,
    MAX_TRANSCRIPT_LINE_CHARS,
    MAX_TRANSCRIPT_LINES,
    Attachment,
    ChannelMessage,
    EmailAddress,
    ShortText,
    Text,
    TranscriptLine,
)


class EmailMessage(ChannelMessage):
    """An email from the mail gateway. `channel_message_id` is the Message-ID header."""

    channel: Literal["email"] = "email"
    from_: EmailAddress = Field(alias="from")
    reply_to: EmailAddress | None = Field(
        default=None, description="The Reply-To header, when set."
    )
    to: list[EmailAddress] = Field(default_factory=list, max_length=100)
    cc: list[EmailAddress] = Field(default_factory=list, max_length=100)
    subject: str = Field(default="", max_length=998)
    text: Text | None = Field(default=None, description="text/plain body")
    html: str | None = Field(default=None, max_length=MAX_HTML_CHARS, description="text/html body")
    in_reply_to: str | None = Field(default=None, max_length=998)
    references: list[str] = Field(default_factory=list, max_length=200)
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Other headers, e.g. Auto-Submitted, Precedence, X-Autoreply, Return-Path.",
    )
    attachments: list[Attachment] = Field(default_factory=list, max_length=100)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def conversation_hint(self) -> str:
        return self.from_.address.lower()


class LiveChatMessage(ChannelMessage):
    channel: Literal["live_chat"] = "live_chat"
    session_id: ShortText
    visitor_id: ShortText
    visitor_name: str | None = Field(default=None, max_length=200)
    visitor_email: EmailStr | None = None
    visitor_phone: str | None = Field(default=None, max_length=32)
    page_url: str | None = Field(default=None, max_length=2048)
    text: Text = Field(min_length=1)
    transcript: list[TranscriptLine] = Field(default_factory=list, max_length=500)

    def conversation_hint(self) -> str:
        return self.session_id


class SocialMessage(ChannelMessage):
    channel: Literal["social"] = "social"
    platform: Literal["facebook", "zalo", "instagram", "x"]
    page_id: ShortText = Field(description="Facebook page or Zalo OA id that received it.")
    sender_id: ShortText = Field(
        description="The platform's id of the customer (PSID, Zalo user id)."
    )
    sender_name: str | None = Field(default=None, max_length=200)
    thread_id: ShortText
    kind: Literal["private_message", "public_comment"] = "private_message"
    post_id: str | None = Field(default=None, max_length=512)
    text: Text = Field(default="", description="Empty only when attachments carry the message.")
    attachments: list[Attachment] = Field(default_factory=list, max_length=100)
    shared_phone: str | None = Field(
        default=None,
        max_length=32,
        description="A phone number the customer shared through the platform's own consent "
        "flow (Zalo's `user_submit_info`): the platform vouches for it, so it is a verified "
        "identity of this sender, unlike a number typed in a message.",
    )

    @model_validator(mode="after")
    def _says_something(self) -> SocialMessage:
        if not self.text.strip() and not self.attachments and not self.shared_phone:
            raise ValueError("a social message needs text, an attachment or a shared phone")
        return self

    def conversation_hint(self) -> str:
        return f"{self.platform}:{self.thread_id}"


class PhoneCall(ChannelMessage):
    """A call from the phone/IVR platform; `channel_message_id` is the call id."""

    channel: Literal["phone"] = "phone"
    caller_number: str = Field(min_length=3, max_length=32)
    caller_name: str | None = Field(default=None, max_length=200)
    dialled_line: str = Field(default="", max_length=32)
    ivr_path: str = Field(default="", max_length=32, pattern=r"^[0-9*#]*(-[0-9*#]+)*$")
    duration_seconds: int = Field(default=0, ge=0)
    missed: bool = False
    abandoned: bool = False
    voicemail_transcript: Text | None = None
    notes: Text | None = Field(default=None, description="What the IVR or the agent noted.")

    def conversation_hint(self) -> str:
        return self.caller_number


class SmsMessage(ChannelMessage):
    channel: Literal["sms"] = "sms"
    from_number: str = Field(min_length=3, max_length=32)
    to_number: str = Field(default="", max_length=32)
    text: Text = Field(default="", description="Empty only when media carry the message.")
    attachments: list[Attachment] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _says_something(self) -> SmsMessage:
        if not self.text.strip() and not self.attachments:
            raise ValueError("an SMS needs text or media")
        return self

    def conversation_hint(self) -> str:
        return self.from_number


class WebFormSubmission(ChannelMessage):
    channel: Literal["web_form"] = "web_form"
    form_id: ShortText = "contact"
    name: str | None = Field(default=None, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=32)
    category: str | None = Field(default=None, max_length=64, description="Picked by the customer.")
    subject: str = Field(default="", max_length=998)
    text: Text = Field(min_length=1)
    fields: dict[str, str] = Field(default_factory=dict, description="Other form fields.")

    @model_validator(mode="after")
    def _needs_contact(self) -> WebFormSubmission:
        if not (self.email or self.phone):
            raise ValueError("a web form needs an email or a phone to answer")
        return self

    def conversation_hint(self) -> str:
        return str(self.email or self.phone)


class ChatbotConversation(ChannelMessage):
    """A bot conversation handed to (or shown to) a human."""

    channel: Literal["chatbot"] = "chatbot"
    bot_conversation_id: ShortText
    visitor_id: ShortText
    visitor_name: str | None = Field(default=None, max_length=200)
    visitor_email: EmailStr | None = None
    visitor_phone: str | None = Field(default=None, max_length=32)
    text: Text = Field(min_length=1, description="The customer's last message.")
    transcript: list[TranscriptLine] = Field(default_factory=list, max_length=500)
    handoff_requested: bool = False
    handoff_reason: str | None = Field(default=None, max_length=500)
    bot_confidence: float | None = Field(default=None, ge=0.0, le=1.0)

    def conversation_hint(self) -> str:
        return self.bot_conversation_id


class OnSiteRequest(ChannelMessage):
    """A field-service request: someone must come to the customer."""

    channel: Literal["on_site"] = "on_site"
    name: str | None = Field(default=None, max_length=200)
    phone: str = Field(min_length=3, max_length=32)
    email: EmailStr | None = None
    address: str = Field(min_length=1, max_length=500)
    region: str = Field(min_length=1, max_length=100, examples=["Hà Nội"])
    window_start: AwareDatetime | None = None
    window_end: AwareDatetime | None = None
    asset_model: str | None = Field(default=None, max_length=200)
    serial_number: str | None = Field(default=None, max_length=200)
    text: Text = Field(min_length=1)

    @model_validator(mode="after")
    def _window_in_order(self) -> OnSiteRequest:
        if self.window_start and self.window_end and self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        return self

    def conversation_hint(self) -> str:
        return self.phone


InboundMessage = Annotated[
    EmailMessage
    | LiveChatMessage
    | SocialMessage
    | PhoneCall
    | SmsMessage
    | WebFormSubmission
    | ChatbotConversation
    | OnSiteRequest,
    Field(discriminator="channel"),
]
INBOUND_ADAPTER: TypeAdapter[InboundMessage] = TypeAdapter(InboundMessage)
CHANNEL_MODELS: dict[Channel, type[ChannelMessage]] = {
    Channel.EMAIL: EmailMessage,
    Channel.LIVE_CHAT: LiveChatMessage,
    Channel.SOCIAL: SocialMessage,
    Channel.PHONE: PhoneCall,
    Channel.SMS: SmsMessage,
    Channel.WEB_FORM: WebFormSubmission,
    Channel.CHATBOT: ChatbotConversation,
    Channel.ON_SITE: OnSiteRequest,
}


def parse_inbound(data: Any) -> InboundMessage:
    """Validates a decoded JSON object into its channel's model (ValidationError if not)."""
    return INBOUND_ADAPTER.validate_python(data)


def sent_at(message: ChannelMessage, default: datetime) -> datetime:
    return message.received_at or default


__all__ = [
    "CHANNEL_MODELS",
    "MAX_HTML_CHARS",
    "MAX_TEXT_CHARS",
    "MAX_TRANSCRIPT_CHARS",
    "MAX_TRANSCRIPT_LINES",
    "MAX_TRANSCRIPT_LINE_CHARS",
    "Attachment",
    "ChannelMessage",
    "ChatbotConversation",
    "EmailAddress",
    "EmailMessage",
    "InboundMessage",
    "LiveChatMessage",
    "OnSiteRequest",
    "PhoneCall",
    "SmsMessage",
    "SocialMessage",
    "TranscriptLine",
    "ValidationError",
    "WebFormSubmission",
    "parse_inbound",
]
