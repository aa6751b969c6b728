"""What every platform route shares: a request whose signature (or URL token) is missing or
wrong is refused with one 401 naming the reason, counted by platform (routes: `api_*.py`)."""

from __future__ import annotations

from fastapi import HTTPException, Request

from s8_channels.context import channels_of


class SignatureRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def refuse(request: Request, platform: str, reason: str) -> HTTPException:
    """The 401 for a request whose signature (or URL token) is missing or wrong."""
    # The metrics live on the Channels the composition root keeps (app.state.channels).
    channels_of(request).metrics.refused.labels(platform).inc()
    return HTTPException(401, f"{platform} signature refused: {reason}")
