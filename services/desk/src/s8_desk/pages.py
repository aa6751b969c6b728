"""The agents' web inbox, served by the desk itself: a server-rendered shell (`/inbox`) and
its scripts and stylesheet (`/inbox/static/…`), all files of this package (`web/`) — no asset
from the internet, no build step.

The page signs the agent in with the OpenID provider on its own (authorization code with
PKCE, the public client `S8_INBOX_CLIENT_ID`) and calls the desk's API with the agent's
token, so the desk keeps no session: the shell carries public configuration only (the
issuer and the client id), and its Content-Security-Policy lets the page talk to the desk
and to that issuer and nothing else."""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from importlib.resources import files
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Header, HTTPException, Request, Response
from fastapi.responses import HTMLResponse

from s8_desk.settings import DeskSettings

pages = APIRouter(include_in_schema=False)
WEB = files("s8_desk") / "web"
CONFIG_MARK = "__INBOX_CONFIG__"
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
# Only these files are served (a name is never turned into a path on disk).
STATIC = ("inbox.css", "inbox.js", "actions.js", "auth.js", "render.js", "stream.js", "texts.js")


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


def _asset(name: str) -> Asset:
    body = WEB.joinpath(name).read_bytes()
    media_type = TYPES[name[name.rindex(".") :]]
    return Asset(body, media_type, f'"{hashlib.sha256(body).hexdigest()[:32]}"')


# Read at import: a file missing from the package fails at start, not at the first visit.
ASSETS = {name: _asset(name) for name in STATIC}
SHELL = WEB.joinpath("inbox.html").read_text(encoding="utf-8")
if CONFIG_MARK not in SHELL:
    raise RuntimeError("web/inbox.html lost its configuration mark")


def browser_issuer(settings: DeskSettings) -> str:
    return (settings.inbox_issuer_url or settings.oidc_issuer).rstrip("/")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def shell(settings: DeskSettings) -> str:
    """The page with its configuration in an attribute (HTML-escaped JSON: no markup from a
    setting can reach the page)."""
    config = {
        "issuer": browser_issuer(settings),
        "client_id": settings.inbox_client_id,
        # The page reads who signed in the way the desk does (for display only).
        "roles_claim": settings.oidc_roles_claim,
        "actor_claim": settings.oidc_actor_claim,
    }
    return SHELL.replace(CONFIG_MARK, html.escape(json.dumps(config), quote=True))


def security_headers(settings: DeskSettings) -> dict[str, str]:
    provider = origin_of(browser_issuer(settings))
    policy = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self' {provider}",  # the desk's API; discovery and token endpoints
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        # The authorization code arrives in the page's URL: never sent on as a referrer.
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }


def settings_of(request: Request) -> DeskSettings:
    settings = request.app.state.runtime.settings
    if not isinstance(settings, DeskSettings):
        raise TypeError("the inbox is served by the desk only")
    return settings


@pages.get("/inbox", response_class=HTMLResponse)
async def inbox(request: Request) -> HTMLResponse:
    """The inbox shell; after signing in, the provider sends the agent back here."""
    settings = settings_of(request)
    return HTMLResponse(shell(settings), headers=security_headers(settings))


@pages.get("/inbox/static/{name}")
async def static(
    name: str, if_none_match: Annotated[str | None, Header(max_length=200)] = None
) -> Response:
    asset = ASSETS.get(name)
    if asset is None:
        raise HTTPException(404, "no such file")
    # Revalidated on every load (no stale script after an upgrade), sent again only if changed.
    headers = {"ETag": asset.etag, "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if if_none_match == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
