"""Which failures mean the message itself is bad (a dead letter at once, with the reason)
and which are transient (redelivered after a backoff)."""

from __future__ import annotations

from pydantic import ValidationError

from s8_shared.contracts.envelope import InvalidMessage, validation_reason


def classify(exc: BaseException) -> str | None:
    """The reason when `exc` means the message itself is bad, else None (transient)."""
    if isinstance(exc, InvalidMessage):
        return exc.reason
    if isinstance(exc, ValidationError):
        return validation_reason(exc)
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8: {exc}"
    if isinstance(exc, UnicodeEncodeError):
        return "text that is not Unicode (a lone surrogate)"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        # FastStream's own JSON decoding, before the handler: Python has no subclass for it.
        return "an integer of more digits than Python converts"
    return None


def error_type_of(exc: BaseException) -> str:
    """`too_large`, or `invalid` for any other message that can never be processed."""
    return exc.error_type if isinstance(exc, InvalidMessage) else "invalid"
