"""FastAPI's side of identity: a route names the roles it admits, the request's bearer token
is verified and its principal passed to the handler.

`require("lead", "admin")` is a `Security` dependency, so each route's roles are written in its
OpenAPI document (`security: [{"bearer": ["lead", "admin"]}]`): the access tests are generated
from those documents, and a route without roles is a route the tests flag.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from s8_shared.identity.channel_keys import ChannelKey, channel_principal
from s8_shared.identity.jwks import JwksCache
from s8_shared.identity.principal import Principal, Role
from s8_shared.identity.tokens import TokenVerifier, Unauthorized
from s8_shared.settings import ServiceSettings

SCHEME = "bearer"
MAX_DISCOVERY_BYTES = 1_048_576  # the issuer is trusted, its answers are bounded anyway

bearer = HTTPBearer(
    scheme_name=SCHEME,
    bearerFormat="JWT",
    description="An OpenID Connect access token of the configured issuer (S8_OIDC_ISSUER).",
    auto_error=False,
)


async def authorized(
    request: Request,
    scopes: SecurityScopes,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The request's principal, holding one of the route's roles: 401 without a valid token,
    403 without the role."""
    if credentials is None:
        raise HTTPException(401, "a bearer token is required", {"WWW-Authenticate": "Bearer"})
    verifier: TokenVerifier = request.app.state.verifier
    try:
        principal = await verifier.verify(credentials.credentials)
    except Unauthorized as exc:
        raise HTTPException(
            401,
            f"invalid token: {exc.reason}",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from exc
    if scopes.scopes and not principal.has(*scopes.scopes):
        raise HTTPException(403, f"this needs one of the roles {', '.join(scopes.scopes)}")
    request.state.principal = principal
    return principal


channel_key = APIKeyHeader(
    name="X-API-Key",
    scheme_name="channelKey",
    description="A channel key (S8_CHANNEL_KEYS of intake), for channel systems without OAuth; "
    "valid on POST /v1/inbound/{channel} only.",
    auto_error=False,
)


async def channel_caller(
    request: Request,
    scopes: SecurityScopes,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    key: Annotated[str | None, Security(channel_key)],
) -> Principal:
    """A channel system: a channel key for the URL's channel, else a bearer token with the
    `channel` role (and, if the token limits it, that channel)."""
    channel = str(request.path_params.get("channel", ""))
    if key is not None and credentials is None:
        keys: list[ChannelKey] = request.app.state.settings.channel_keys
        # As bytes: a header may hold any byte, and a non-ASCII key is simply a wrong one.
        principal = channel_principal(keys, channel, key.encode(errors="surrogateescape"))
        if principal is None:
            raise HTTPException(401, "wrong X-API-Key for this channel")
        request.state.principal = principal
        return principal
    principal = await authorized(request, scopes, credentials)
    check_channel(principal, channel)
    return principal


def require(*roles: Role) -> Any:
    """A dependency admitting principals with any of `roles`: `Annotated[Principal, require(...)]`."""
    return Security(authorized, scopes=list(roles))


class HttpJson:
    """GETs JSON documents from the issuer (discovery, JWKS) with one pooled client."""

    def __init__(self, timeout_seconds: float = 5.0) -> None:
        self.timeout_seconds = timeout_seconds
        self.client: httpx.AsyncClient | None = None  # opened on first use, in the running loop

    async def __call__(self, url: str) -> dict[str, Any]:
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=self.timeout_seconds, follow_redirects=False)
        async with self.client.stream("GET", url, headers={"Accept": "application/json"}) as reply:
            reply.raise_for_status()
            body = b""
            async for chunk in reply.aiter_bytes():
                body += chunk
                if len(body) > MAX_DISCOVERY_BYTES:
                    raise ValueError(f"{url} answered more than {MAX_DISCOVERY_BYTES} bytes")
        document = httpx.Response(200, content=body).json()
        if not isinstance(document, dict):
            raise ValueError(f"{url} did not answer a JSON object")
        return document

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None


def token_verifier(settings: ServiceSettings, fetch_json: HttpJson) -> TokenVerifier:
    return TokenVerifier(
        JwksCache(settings.oidc_issuer, fetch_json),
        audience=settings.oidc_audience,
        algorithms=settings.oidc_algorithms,
        roles_claim=settings.oidc_roles_claim,
        actor_claim=settings.oidc_actor_claim,
    )


def acting_as(principal: Principal, named: object, field: str) -> str:
    """Who a write is made by: always the caller. A body may leave `field` out or name the
    caller; naming anyone else is refused (403), never believed."""
    if named not in (None, "") and named != principal.actor_id:
        raise HTTPException(
            403,
            f"{field} must be left out or be the caller ({principal.actor_id}): s8 records "
            "who acts from the token",
        )
    return principal.actor_id


def check_channel(principal: Principal, channel: str) -> None:
    """A channel system restricted to some channels (`s8_channels`) sends only those."""
    if principal.channels and channel not in principal.channels:
        raise HTTPException(
            403, f"this client may send {', '.join(sorted(principal.channels))} only"
        )
