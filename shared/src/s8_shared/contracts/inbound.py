"""What other systems publish to `support.inbound.v1` (or POST to intake's webhook)."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from s8_shared.contracts.common import Channel

MAX_TEXT_CHARS = 20_000


class InboundMessage(BaseModel):
    """One customer message from any channel, before s8 has made it a ticket.

    Fields s8 does not model are kept, untouched, in `raw`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel = Field(description="Channel the message came from.", examples=["email"])
    channel_message_id: str = Field(
        min_length=1,
        max_length=512,
        description="The channel's own id for this message (email Message-ID, chat message id, "
        "call id...). A re-sent message with the same id is stored once.",
        examples=["<CAF=abc123@mail.example.vn>"],
    )
    sender_id: str = Field(
        min_length=1,
        max_length=320,
        description="Who sent it on that channel: email address, phone number, social or visitor id.",
        examples=["lan.nguyen@example.vn"],
    )
    sender_name: str | None = Field(default=None, max_length=200, examples=["Nguyễn Thị Lan"])
    conversation_id: str | None = Field(
        default=None,
        max_length=512,
        description="The channel's conversation/thread id when it has one (chat session, social thread).",
    )
    subject: str | None = Field(default=None, max_length=998)
    text: str = Field(
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        description="What the customer said, as plain text.",
        examples=["Tôi chưa nhận được hoàn tiền cho đơn hàng #A1023, xin hỗ trợ gấp!"],
    )
    received_at: AwareDatetime | None = Field(
        default=None, description="When the channel received it; defaults to intake time."
    )
    raw: dict[str, Any] = Field(
        default_factory=dict, description="Channel fields s8 does not model, kept as received."
    )

    @model_validator(mode="before")
    @classmethod
    def _keep_unknown_fields_in_raw(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        known = set(cls.model_fields)
        unknown = {k: v for k, v in data.items() if k not in known}
        if not unknown:
            return data
        kept = {k: v for k, v in data.items() if k in known}
        raw = dict(kept.get("raw") or {})
        raw.update(unknown)
        kept["raw"] = raw
        return kept

    def dedup_key(self) -> str:
        return f"{self.channel.value}:{self.channel_message_id}"

    def partition_key(self) -> bytes:
        return f"{self.channel.value}:{self.conversation_id or self.sender_id}".encode()
