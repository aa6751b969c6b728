"""API-key authentication for the HTTP APIs other systems call (webhooks, answer APIs)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Header, HTTPException, Request
from pydantic import SecretStr


def require_api_key(request: Request, x_api_key: Annotated[str | None, Header()] = None) -> None:
    """Accepts any key of `app.state.settings.api_keys`, compared in constant time."""
    keys: list[SecretStr] = request.app.state.settings.api_keys
    # Compared as bytes: compare_digest refuses non-ASCII text, and a header may hold any byte.
    given = (x_api_key or "").encode(errors="surrogatepass")
    if not given or not any(
        hmac.compare_digest(given, key.get_secret_value().encode(errors="surrogatepass"))
        for key in keys
    ):
        raise HTTPException(status_code=401, detail="missing or wrong X-API-Key")
