"""What every channel's inbound message shares: the size limits, the common fields, and the
parts several channels carry (attachments, transcript lines, e-mail addresses)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    model_validator,
)

from s8_shared.contracts.common import Channel

MAX_TEXT_CHARS = 20_000
MAX_HTML_CHARS = 200_000
# What of a chat or bot transcript a ticket carries (its latest lines): with the message's
# own text and the ticket, every event stays far below the producer's 1 MiB limit.
MAX_TRANSCRIPT_CHARS = 40_000
MAX_TRANSCRIPT_LINE_CHARS = 4_000
MAX_TRANSCRIPT_LINES = 200

Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
ShortText = Annotated[str, Field(max_length=512)]


class ChannelMessage(BaseModel):
    """Fields every channel shares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str  # each channel's model narrows it to a Literal (the union's discriminator)
    channel_message_id: str = Field(
        min_length=1,
        max_length=998,
        description="The channel's own id for this message (email Message-ID, chat message id, "
        "call id...). A re-sent message with the same id is stored once.",
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
        known = set(cls.model_fields) | {f.alias for f in cls.model_fields.values() if f.alias}
        unknown = {k: v for k, v in data.items() if k not in known}
        if not unknown:
            return data
        kept = {k: v for k, v in data.items() if k in known}
        raw = dict(kept.get("raw") or {})
        raw.update(unknown)
        kept["raw"] = raw
        return kept

    @property
    def channel_kind(self) -> Channel:
        return Channel(self.channel)

    def dedup_key(self) -> str:
        return f"{self.channel_kind.value}:{self.channel_message_id}"

    def conversation_hint(self) -> str:
        """What keeps one conversation together on one partition."""
        raise NotImplementedError

    def partition_key(self) -> bytes:
        return f"{self.channel_kind.value}:{self.conversation_hint()}".encode()


class Attachment(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    filename: ShortText
    content_type: ShortText = "application/octet-stream"
    size_bytes: int = Field(default=0, ge=0)
    url: str | None = Field(
        default=None, max_length=2048, description="Where the gateway stored it."
    )


class TranscriptLine(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    author: Literal["customer", "agent", "bot"]
    text: Text
    at: AwareDatetime | None = None


class EmailAddress(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    address: EmailStr
    name: str | None = Field(default=None, max_length=200)
