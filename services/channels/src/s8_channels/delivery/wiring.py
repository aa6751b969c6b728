"""Outbound delivery wiring (to be written)."""

from __future__ import annotations

from s8_channels.context import Channels
from s8_shared.runtime import ServiceRuntime


def register_delivery(runtime: ServiceRuntime, channels: Channels) -> None:
    return None
