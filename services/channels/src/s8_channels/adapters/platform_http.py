"""What the HTTP platforms (Meta, Zalo, Twilio) share: a POST whose transport failures are
transient, and the reading of a status code and a Retry-After header."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from s8_channels.domain.delivery import DeliveryError, PermanentError, TransientError

_DETAIL_CHARS = 300


async def post(client: httpx.AsyncClient, url: str, **kwargs: Any) -> httpx.Response:
    """The platform's answer, whatever its status; TransientError when none came (timeout,
    refused or dropped connection). The URL never carries a secret, so it may be reported."""
    try:
        return await client.post(url, **kwargs)
    except httpx.TimeoutException as exc:
        raise TransientError(f"timed out: POST {_path(url)}") from exc
    except httpx.TransportError as exc:
        raise TransientError(f"connection failed: POST {_path(url)}: {exc}") from exc


def status_error(response: httpx.Response, detail: str) -> DeliveryError:
    """429 and 5xx are transient (with the platform's Retry-After); any other 4xx is
    permanent; `detail` says what the platform answered."""
    status = response.status_code
    text = f"HTTP {status}: {detail[:_DETAIL_CHARS]}"
    if status == 429 or status >= 500:
        return TransientError(text, retry_after=retry_after(response))
    return PermanentError(text)


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds (the HTTP-date form is rare on APIs and ignored)."""
    value = response.headers.get("retry-after", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def json_body(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or {} (an HTML error page from a proxy, an empty body)."""
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def segment(value: str) -> str:
    """`value` as one path segment: an id read from the store never changes the path."""
    return quote(value, safe="")


def _path(url: str) -> str:
    return httpx.URL(url).path
