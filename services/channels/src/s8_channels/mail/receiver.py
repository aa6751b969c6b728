"""SMTP receiver (to be written)."""

from __future__ import annotations

from s8_channels.context import Channels


class MailReceiver:
    def __init__(self, channels: Channels) -> None:
        self.channels = channels

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
