"""Identities a customer asserts but no channel proves: candidates, never merged on their own.

A channel proves who wrote (the sender of an e-mail, the caller of a call or SMS, a platform
id, a phone Zalo vouches for); a phone or e-mail typed in a chat's contact field, a form's
second contact, a Reply-To or a number in a message's text is only what someone says. Such an
identity owned by another customer becomes a suggested merge, with a confidence and a reason,
for an agent to confirm. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import phonenumbers

from s8_intake.domain.customers import identity_key
from s8_intake.domain.identities import DEFAULT_REGION, identity_for_email, identity_for_phone
from s8_shared.contracts import Identity, deterministic_id
from s8_shared.contracts.inbound import (
    ChatbotConversation,
    EmailMessage,
    InboundMessage,
    LiveChatMessage,
    OnSiteRequest,
    WebFormSubmission,
)

CandidateSource = Literal["contact_field", "reply_to", "text"]
MAX_MENTIONS = 5  # of each kind per message: a signature has one or two
# Scanning for phones is bounded too (phonenumbers tries at most this many spans).
_PHONE_TRIES = 200
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}")

CONFIDENCE: dict[CandidateSource, float] = {
    # Typed into a field that asks for the customer's own contact: usually theirs.
    "contact_field": 0.6,
    "reply_to": 0.5,
    # Mentioned in a message or a signature: may be someone else's (a colleague, a shop).
    "text": 0.4,
}
_SAID: dict[CandidateSource, str] = {
    "contact_field": "given in the contact field of a {channel} message",
    "reply_to": "named as Reply-To of an e-mail",
    "text": "mentioned in a {channel} message",
}


@dataclass(frozen=True)
class Candidate:
    identity: Identity
    source: CandidateSource

    @property
    def confidence(self) -> float:
        return CONFIDENCE[self.source]

    def reason(self, channel: str) -> str:
        return f"{self.identity.kind} {self.identity.value} {_SAID[self.source]}".format(
            channel=channel
        )


def mentioned(text: str, region: str = DEFAULT_REGION) -> tuple[Identity, ...]:
    """E-mail addresses and valid phone numbers written in a text, the first few of each."""
    emails = [identity_for_email(m.group(0).rstrip(".")) for m in _EMAIL.finditer(text)]
    phones: list[Identity] = []
    matcher = phonenumbers.PhoneNumberMatcher(
        text, region, leniency=phonenumbers.Leniency.VALID, max_tries=_PHONE_TRIES
    )
    for match in matcher:
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        phones.append(Identity(kind="phone", value=e164))
        if len(phones) >= MAX_MENTIONS:
            break
    found = [e for e in emails if e is not None][:MAX_MENTIONS] + phones
    return tuple(dict.fromkeys(found))


def candidates(
    fields: Iterable[tuple[Identity | None, CandidateSource]],
    proven: Iterable[Identity],
) -> tuple[Candidate, ...]:
    """The asserted identities not already proven by the message, strongest source first."""
    seen = {identity_key(i) for i in proven}
    kept: list[Candidate] = []
    for identity, source in fields:
        if identity is None or identity_key(identity) in seen:
            continue
        seen.add(identity_key(identity))
        kept.append(Candidate(identity, source))
    return tuple(kept)


def suggestion_id(customer_a: str, customer_b: str, identity: Identity) -> str:
    """One suggestion per pair of customers and identity, whoever asserted it first."""
    first, second = sorted((customer_a, customer_b))
    return "S-" + deterministic_id("suggestion", first, second, identity_key(identity)).hex[:16]


def asserted_by_sender(message: InboundMessage) -> list[tuple[Identity | None, CandidateSource]]:
    """What the sender says are their addresses, beside the one the channel proves."""
    match message:
        case EmailMessage():
            reply_to = message.reply_to.address if message.reply_to else None
            return [(identity_for_email(reply_to), "reply_to")]
        case LiveChatMessage() | ChatbotConversation():
            return [
                (identity_for_email(message.visitor_email), "contact_field"),
                (identity_for_phone(message.visitor_phone), "contact_field"),
            ]
        case WebFormSubmission():
            return [
                (identity_for_email(message.email), "contact_field"),
                (identity_for_phone(message.phone), "contact_field"),
            ]
        case OnSiteRequest():
            return [(identity_for_email(message.email), "contact_field")]
        case _:
            return []
