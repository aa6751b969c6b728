"""Stringee's call events as pure functions: the JSON body, the URL token, and a call
mapped to s8's `PhoneCall`. No I/O: `stringee.py` does the HTTP.

Stringee posts every change of a call (`created`, `started`, `ringing`, `answered`,
`ended`, `agentEnded`) to the event URL; only `ended` says how the call went, so a call is
published once, then, keyed by its `call_id`. Stringee signs nothing: the event URL carries
a secret `?token=` of the account named by `account_sid`.

How an ended call is read:
- only a customer's call becomes a message: `callCreatedReason` `EXTERNAL_CALL_IN` (a phone
  calling a Stringee number), or, without a reason, a caller who is not a Stringee app user
  (`from.type` not `internal`). Calls placed by app users are the business's own (an
  agent's callout, an internal call): acknowledged, not published;
- answered (`answerDuration` > 0): `duration_seconds` is the talk time;
- abandoned: never answered, the caller's own side hung up (`endedBy` equals the caller's
  `from.type`, i.e. `EXTERNAL` for a phone caller) after waiting (`duration` > 0): they gave
  up in the IVR or the queue before an agent answered;
- missed: never answered otherwise (no agent, busy, queue timeout, ended by Stringee).
Both missed and abandoned calls are calls to return.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from s8_shared.contracts.envelope import load_json_object
from s8_shared.contracts.inbound import PhoneCall

STATUSES = frozenset({"created", "started", "ringing", "answered", "ended", "agentEnded"})
CUSTOMER_CALL = "EXTERNAL_CALL_IN"
_MAX_MILLIS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_MAX_SECONDS = 10**7


class Unmappable(ValueError):
    """An `ended` event that carries no call s8 can represent."""


@dataclass(frozen=True)
class Ignored:
    """A genuine event that is not a customer's finished call; acknowledged."""

    reason: str


def parse_event(body: bytes) -> dict[str, Any]:
    """The event as a JSON object; ValueError (InvalidMessage) for anything else."""
    return load_json_object(body)


def account_sid(event: dict[str, Any]) -> str | None:
    sid = event.get("account_sid")
    return sid if isinstance(sid, str) and sid else None


def token_matches(expected: str, given: str) -> bool:
    """Constant time, on bytes (a query value may hold any character)."""
    return hmac.compare_digest(expected.encode(), given.encode())


def _party(event: dict[str, Any], name: str) -> dict[str, Any]:
    party = event.get(name)
    return party if isinstance(party, dict) else {}


def _text(value: object) -> str:
    """A number or alias as a string: Stringee sends numbers as strings, a client may not."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | str):
        return str(value).strip()
    return ""


def _seconds(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int | float):
        return max(0, min(int(value), _MAX_SECONDS))
    if isinstance(value, str) and value.strip().isdigit():
        return min(int(value.strip()), _MAX_SECONDS)
    return 0


def _received_at(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_MILLIS:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def is_customer_call(event: dict[str, Any]) -> bool:
    reason = event.get("callCreatedReason")
    if isinstance(reason, str) and reason:
        return reason == CUSTOMER_CALL
    return _text(_party(event, "from").get("type")).casefold() != "internal"


def outcome(event: dict[str, Any]) -> tuple[bool, bool, int]:
    """(missed, abandoned, talk seconds) of an ended call, as the module docstring says."""
    talk = _seconds(event.get("answerDuration"))
    if talk > 0:
        return False, False, talk
    caller_side = _text(_party(event, "from").get("type")) or "external"
    hung_up_by_caller = _text(event.get("endedBy")).casefold() == caller_side.casefold()
    if hung_up_by_caller and _seconds(event.get("duration")) > 0:
        return False, True, 0
    return True, False, 0


def phone_call(event: dict[str, Any]) -> PhoneCall | Ignored:
    """The customer's call once it has ended; Ignored for every other event."""
    status = event.get("call_status")
    if status != "ended":
        return Ignored(f"call status {status!r}: published when it has ended")
    if not is_customer_call(event):
        return Ignored("a call placed by a Stringee app user (outbound or internal)")
    call_id = _text(event.get("call_id"))
    caller = _party(event, "from")
    number = _text(caller.get("number"))
    if not call_id or not number:
        raise Unmappable("an ended call needs call_id and from.number")
    alias = _text(caller.get("alias"))
    dialled = _text(_party(event, "to").get("number"))
    missed, abandoned, talk = outcome(event)
    return PhoneCall(
        channel_message_id=call_id,
        received_at=_received_at(event.get("timestamp_ms")),
        caller_number=number,
        caller_name=alias[:200] if alias and alias != number else None,
        dialled_line=dialled if len(dialled) <= 32 else "",
        duration_seconds=talk,
        missed=missed,
        abandoned=abandoned,
        raw=event,
    )
