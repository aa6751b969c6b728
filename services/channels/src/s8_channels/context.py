"""What the webhooks need, built once in `app.py` and kept on `app.state.channels`."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from s8_channels.adapters.customer_upserts import CustomerUpserts
from s8_channels.adapters.inbound_sink import InboundSink
from s8_channels.adapters.recipients import Recipients
from s8_channels.metrics import ChannelMetrics
from s8_channels.settings import ChannelsSettings


@dataclass(frozen=True)
class Channels:
    settings: ChannelsSettings
    sink: InboundSink
    metrics: ChannelMetrics
    recipients: Recipients
    customers: CustomerUpserts


def channels_of(request: Request) -> Channels:
    channels: Channels = request.app.state.channels
    return channels
