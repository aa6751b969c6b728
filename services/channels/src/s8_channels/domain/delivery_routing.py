"""Which requests this service delivers, and which provider carries each. Pure.

E-mail, social (Meta, Zalo) and SMS are delivered here, and web-form replies addressed to an
e-mail. Everything else (live chat, chatbot, phone, on-site, a web-form reply to a phone
number: someone calls back) belongs to another delivery system reading the same topic:
it is neither recorded nor reported here, so two systems never both answer for it.
"""

from __future__ import annotations

import re

from s8_channels.adapters.recipients import Recipient
from s8_channels.domain.delivery import META, NONE, SMTP, TWILIO, ZALO
from s8_shared.contracts import Channel, OutboundMessagePayload

# Enough to tell an e-mail address from a phone number or a platform id; the relay judges
# the rest (a 5xx for a bad address is a permanent failure).
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_SOCIAL_PROVIDERS = {"facebook": META, "instagram": META, "zalo": ZALO}


def looks_like_email(address: str) -> bool:
    return bool(_EMAIL.match(address.strip()))


ALL_DELIVERED = frozenset({Channel.EMAIL, Channel.WEB_FORM, Channel.SOCIAL, Channel.SMS})


def delivered_channels(*, mail: bool, sms: bool, social: bool) -> frozenset[Channel]:
    """The channels a deployment delivers here: those it configured a sender for (a relay,
    a Twilio account, a Meta app or Zalo OA token). The others stay with whatever delivered
    them before s8 did, instead of failing here one by one."""
    chosen = ((mail, (Channel.EMAIL, Channel.WEB_FORM)), (sms, (Channel.SMS,)), (social, (Channel.SOCIAL,)))  # fmt: skip
    return frozenset(c for on, channels in chosen if on for c in channels)


def is_ours(request: OutboundMessagePayload, delivered: frozenset[Channel] = ALL_DELIVERED) -> bool:
    """True for the requests this service delivers (the others are skipped, see above)."""
    if request.channel not in delivered:
        return False
    match request.channel:
        case Channel.EMAIL | Channel.SOCIAL | Channel.SMS:
            return True
        case Channel.WEB_FORM:
            return looks_like_email(request.to)
        case _:
            return False


def needs_recipient(channel: Channel) -> bool:
    """A social id only means something to the account it wrote to; an SMS is answered from
    the number the customer texted."""
    return channel in (Channel.SOCIAL, Channel.SMS)


def provider_for(channel: Channel, recipient: Recipient | None) -> str:
    """The provider for a request on `channel` to a customer who wrote to `recipient`;
    NONE when no sender here can carry it (a social id of an unknown account)."""
    match channel:
        case Channel.EMAIL | Channel.WEB_FORM:
            return SMTP
        case Channel.SMS:
            return TWILIO
        case Channel.SOCIAL if recipient is not None:
            return _SOCIAL_PROVIDERS.get(recipient.platform, NONE)
        case _:
            return NONE
