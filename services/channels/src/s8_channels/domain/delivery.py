"""What delivery works with: a claimed request, the port every platform sender implements,
what a sender answers, and the two ways a send fails. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from s8_channels.adapters.recipients import Recipient
from s8_shared.contracts import OutboundMessagePayload

# Who carried a message (`OutboundDeliveryPayload.provider`); NONE when no sender could.
SMTP = "smtp"
META = "meta"
ZALO = "zalo"
TWILIO = "twilio"
NONE = "none"

# A delivery's states in the store: pending until its outcome is final.
PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


class DeliveryError(Exception):
    """A send that did not succeed, and whether retrying can mend it."""

    permanent: ClassVar[bool]

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after  # seconds the platform asked to wait (Retry-After)


class TransientError(DeliveryError):
    """Timeouts, refused connections, rate limits, the platform's own errors: try again."""

    permanent = False


class PermanentError(DeliveryError):
    """A bad address, a refusal, a missing account or token: retrying sends the same refusal."""

    permanent = True


class Unroutable(PermanentError):
    """No sender here can carry this message (no account known for its recipient)."""

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(reason)
        self.provider = provider


@dataclass(frozen=True)
class Delivery:
    """One attempt at sending a request: `attempt` counts this one; `recipient` is the
    account the customer wrote to (a page, an OA, a Twilio number), when known."""

    request: OutboundMessagePayload
    attempt: int = 1
    recipient: Recipient | None = None


@dataclass(frozen=True)
class SentReceipt:
    """The platform accepted the message. A text too long for one platform message goes as
    several: `provider_message_id` names the first, `part_ids` all of them."""

    provider_message_id: str | None
    part_ids: tuple[str, ...] = field(default=())
