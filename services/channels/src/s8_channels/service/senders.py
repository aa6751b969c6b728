"""Choosing the sender of a request: its channel, and for social and SMS the account the
customer wrote to (`Recipients`, remembered by the webhooks)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from s8_channels.adapters.recipients import Recipient
from s8_channels.domain.delivery import NONE, Delivery, Unroutable
from s8_channels.domain.delivery_routing import needs_recipient, provider_for
from s8_channels.ports import RecipientLookup, Sender
from s8_shared.contracts import Channel, OutboundMessagePayload


@dataclass(frozen=True)
class Route:
    provider: str
    sender: Sender
    delivery: Delivery


class Senders:
    def __init__(self, by_provider: Mapping[str, Sender], recipients: RecipientLookup) -> None:
        self.by_provider = dict(by_provider)
        self.recipients = recipients

    async def route(self, request: OutboundMessagePayload, attempt: int) -> Route:
        """The sender for this attempt; Unroutable when none here can carry it."""
        recipient = None
        if needs_recipient(request.channel):
            recipient = await self.recipients.find(request.channel.value, request.to)
        provider = provider_for(request.channel, recipient)
        if provider == NONE:
            raise Unroutable(NONE, _why_unroutable(request, recipient))
        sender = self.by_provider.get(provider)
        if sender is None:
            raise Unroutable(provider, f"no {provider} sender configured")
        return Route(provider, sender, Delivery(request, attempt, recipient))


def _why_unroutable(request: OutboundMessagePayload, recipient: Recipient | None) -> str:
    if request.channel == Channel.SOCIAL and recipient is None:
        return (
            f"no account known for social recipient {request.to!r}: no message from them "
            "reached a connected page or OA"
        )
    if recipient is not None:
        return f"no sender for {recipient.platform} messages"
    return f"no sender for {request.channel.value} messages"
