"""The event envelope every s8 event shares, and decoding by event family.

Events are Pydantic models: one class per event type, carrying a typed payload.
A topic carries a *family* of event types; consumers decode with the family,
skip types they do not know (forward compatibility: additive changes stay on the
same versioned topic) and reject malformed ones with a reason.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

S8_NAMESPACE = uuid.UUID("5a8c1d2e-0b7e-4c52-9a55-8c0f5e2d7a10")


def utcnow() -> datetime:
    return datetime.now(UTC)


def deterministic_id(*parts: object) -> uuid.UUID:
    """A stable UUID for the same inputs, so a re-emitted event keeps its event_id
    and downstream idempotency recognizes it."""
    return uuid.uuid5(S8_NAMESPACE, "|".join(str(p) for p in parts))


class Contract(BaseModel):
    """Base for payloads: unknown fields are ignored so producers can add fields."""

    model_config = ConfigDict(extra="ignore", frozen=True)


PayloadT = TypeVar("PayloadT", bound=BaseModel)


class Event(BaseModel, Generic[PayloadT]):
    """The envelope. Subclasses fix `type` with a Literal and `payload` with a model."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: uuid.UUID = Field(
        default_factory=uuid.uuid4,
        description="Unique id of this event; consumers use it for idempotency.",
    )
    type: str = Field(description="Event type, e.g. `ticket.created`.")
    schema_version: int = Field(default=1, ge=1, description="Version of this event type's schema.")
    occurred_at: AwareDatetime = Field(
        default_factory=utcnow, description="When it happened (UTC, timezone-aware)."
    )
    producer: str = Field(description="Service that produced the event, e.g. `s8-intake`.")
    trace: dict[str, str] = Field(
        default_factory=dict,
        description="W3C trace context (`traceparent`, `tracestate`) of the producing span.",
    )
    payload: PayloadT

    partition_key_field: ClassVar[str] = "ticket_id"

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def partition_key(self) -> bytes:
        """The Kafka key: keeps every event of one ticket (or customer) on one partition."""
        return str(getattr(self.payload, self.partition_key_field)).encode()

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


class InvalidMessage(ValueError):
    """A message that can never be processed; it goes to the dead-letter topic."""

    error_type = "invalid"

    def __init__(self, reason: str, *, details: Any = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


class TooLarge(InvalidMessage):
    """Larger than any message s8 accepts (its dead letter carries only the head)."""

    error_type = "too_large"


class NotAJsonObject(InvalidMessage):
    """Valid JSON, but not an object."""


def validation_reason(error: ValidationError) -> str:
    """A short human-readable reason listing each invalid field."""
    parts = []
    for err in error.errors()[:10]:
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


# The largest message s8 reads from a topic: the producer's default `max_request_size`
# (a larger one can only come from a compressed batch or a topic configured above it).
MAX_MESSAGE_BYTES = 1_048_576

_SURROGATE_ESCAPE = re.compile(rb"\\[uU][dD][89a-fA-F]")


def load_json_object(raw: bytes | str, *, max_bytes: int = MAX_MESSAGE_BYTES) -> dict[str, Any]:
    """A JSON object, or InvalidMessage: larger than `max_bytes` (TooLarge), bad JSON,
    nesting too deep, an integer of more digits than Python converts, or text that is not
    Unicode (a lone surrogate, which no store or producer can encode) are all the
    message's fault, never transient."""
    size = len(raw) if isinstance(raw, bytes | bytearray) else len(raw.encode(errors="replace"))
    if size > max_bytes:
        raise TooLarge(f"too large: {size:,} bytes (at most {max_bytes:,})")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidMessage(f"not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise InvalidMessage("not valid JSON: nested too deeply") from exc
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise InvalidMessage(f"not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise NotAJsonObject(f"expected a JSON object, got {type(data).__name__}")
    # A surrogate can only come from a \\uD800–\\uDFFF escape (or a str built in-process): the
    # whole object is re-encoded only then, not for every message.
    if not isinstance(raw, bytes | bytearray) or _SURROGATE_ESCAPE.search(raw):
        try:
            json.dumps(data, ensure_ascii=False).encode()
        except UnicodeEncodeError as exc:
            raise InvalidMessage("text that is not Unicode (a lone surrogate)") from exc
    return data


class EventFamily:
    """The event types one topic carries, decoded by their `type` field."""

    def __init__(self, name: str, types: Iterable[type[Event[Any]]]) -> None:
        self.name = name
        self.types: dict[str, type[Event[Any]]] = {}
        for cls in types:
            type_name = cls.model_fields["type"].default
            if not isinstance(type_name, str):
                raise TypeError(f"{cls.__name__} must give `type` a Literal default")
            self.types[type_name] = cls

    def decode(self, raw: bytes | str) -> Event[Any] | None:
        """The typed event; None for a well-formed envelope of a type this version
        does not know; InvalidMessage for anything malformed."""
        data = load_json_object(raw)
        type_name = data.get("type")
        if not isinstance(type_name, str):
            raise InvalidMessage("missing string field `type`")
        cls = self.types.get(type_name)
        if cls is None:
            return None
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise InvalidMessage(f"invalid {type_name}: {validation_reason(exc)}") from exc
