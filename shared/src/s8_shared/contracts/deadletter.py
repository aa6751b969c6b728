"""Dead-letter records on `support.deadletter.v1`: the reason and one bounded copy of the
original (its head, size and SHA-256 when it is too large to carry whole)."""

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
        description="`invalid` (can never succeed), `too_large` (above the size s8 reads; "
        "only its head is kept) or `gave_up` (retries spent)."
    )
    attempts: int = 1
    original_text: str | None = Field(
        default=None,
        description="The kept copy of the original value when it is UTF-8 text (else None).",
    )
    original_b64: str | None = Field(
        default=None, description="The kept copy, base64, when the original is not UTF-8 text."
    )
    original_size: int = Field(default=0, description="Bytes of the whole original value.")
    original_sha256: str | None = Field(
        default=None, description="SHA-256 (hex) of the whole original value."
    )
    original_truncated: bool = Field(
        default=False,
        description="The kept copy is only the head of the original (it was larger than "
        "the dead-letter copy limit), so that a dead letter always fits on its topic.",
    )
    original_headers: dict[str, str] = Field(default_factory=dict)

    def original_bytes(self) -> bytes:
        """The kept copy of the original value (all of it unless `original_truncated`)."""
        if self.original_text is not None:
            return self.original_text.encode()
        return base64.b64decode(self.original_b64 or "")


class DeadLetterRecorded(Event[DeadLetterPayload]):
    type: Literal["deadletter.recorded"] = "deadletter.recorded"
    partition_key_field: ClassVar[str] = "dead_letter_id"


DEADLETTER_EVENTS = EventFamily("dead letters", (DeadLetterRecorded,))
