"""Channels' composition root."""

from __future__ import annotations

from fastapi import FastAPI

from s8_channels import api_meta as meta
from s8_channels import api_stringee as stringee
from s8_channels import api_twilio as twilio
from s8_channels import api_zalo as zalo
from s8_channels.adapters.customer_upserts import CustomerUpserts
from s8_channels.adapters.delivery_handlers import register_delivery
from s8_channels.adapters.inbound_sink import InboundSink
from s8_channels.adapters.recipients import Recipients
from s8_channels.adapters.smtp_receiver import MailReceiver
from s8_channels.context import Channels
from s8_channels.metrics import ChannelMetrics
from s8_channels.settings import ChannelsSettings
from s8_shared import topics
from s8_shared.contracts import CustomerProfileUpsert, InboundMessage
from s8_shared.runtime import ServiceRuntime

TITLE = "s8 channels"
DESCRIPTION = (
    "The platforms' own webhooks (Meta, Zalo OA, Twilio, Stringee) and e-mail (SMTP relay, "
    "IMAP) in, each message checked against its platform's signature and put on "
    "support.inbound.v1; s8's messages to customers delivered out (SMTP, Meta, Zalo, Twilio)."
)


def build(settings: ChannelsSettings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or ChannelsSettings()
    runtime = ServiceRuntime(settings, title=TITLE, description=DESCRIPTION)
    runtime.add_indexes(*InboundSink.INDEXES)
    # Published raw (not as events): what the platforms said, and what a follow changes.
    runtime.publisher.document(topics.INBOUND, InboundMessage)
    runtime.publisher.document(topics.CUSTOMERS, CustomerProfileUpsert)
    sink = InboundSink(runtime.publisher, runtime.store)
    channels = Channels(
        settings=settings,
        sink=sink,
        metrics=ChannelMetrics(runtime.registry),
        recipients=Recipients(runtime.store),
        customers=CustomerUpserts(runtime.publisher),
    )
    runtime.every(3600, sink.forget_old, "forget old platform message ids")
    register_delivery(runtime, channels)
    receiver = MailReceiver(channels)
    runtime.on_start(receiver.start)
    runtime.on_stop(receiver.stop)
    app = runtime.http_app(meta.router, zalo.router, twilio.router, stringee.router)
    app.state.channels = channels
    app.state.settings = settings
    return runtime, app
