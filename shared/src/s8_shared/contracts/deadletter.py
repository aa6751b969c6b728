"""Dead-letter records on `support.deadletter.v1`: the reason and the original bytes."""

from __future__ import annotations

import base64
from typing import ClassVar, Literal

from pydantic import Field

from s8_shared.contracts.envelope import Contract, Event, EventFamily


class DeadLetterPayload(Contract):
    dead_letter_id: str = Field(description="source topic/partition/offset, stable across retries")
    service: str = Field(description="The service that gave up, e.g. `s8-intake`.")
    source_topic: str
    partition: int | None = None
    offset: int | None = None
    key: str | None = Field(default=None, description="Original key (UTF-8, or base64 if binary).")
    reason: str = Field(description="Why it could not be processed, readable by a person.")
    error_type: str = Field(
        description="`invalid` (can never succeed) or `gave_up` (retries spent)."
    )
    attempts: int = 1
    original_b64: str = Field(description="The original message value, base64, byte for byte.")
    original_text: str | None = Field(
        default=None, description="The original value as UTF-8 text when it decodes."
    )
    original_headers: dict[str, str] = Field(default_factory=dict)

    def original_bytes(self) -> bytes:
        return base64.b64decode(self.original_b64)


class DeadLetterRecorded(Event[DeadLetterPayload]):
    type: Literal["deadletter.recorded"] = "deadletter.recorded"
    partition_key_field: ClassVar[str] = "dead_letter_id"


DEADLETTER_EVENTS = EventFamily("dead letters", (DeadLetterRecorded,))
