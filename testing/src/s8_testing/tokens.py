"""Access tokens for tests: signed locally against a JWKS fixture (unit tests), or issued by
the local Keycloak (integration tests, `make run`, the fuzzers and benchmarks).

The local Keycloak's realm (deploy/local/keycloak/s8-realm.json) has a confidential client per
service and per channel system (`channel-email`, ...), the workforce client and the demo people
(the roster's agents, `an` the admin, `thao` the analyst), all with development secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from typing import Any

import httpx
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from s8_shared.identity.jwks import JwksCache
from s8_shared.identity.tokens import TokenVerifier
from s8_shared.settings import DEV_SECRET, LOCAL_ISSUER

DEMO_PASSWORD = "s8-demo"
DESK_CLIENT = "s8-desk"
REFRESH_MARGIN_SECONDS = 60


class LocalIssuer:
    """An issuer in the test process: its discovery document, its JWKS and its tokens."""

    def __init__(self, issuer: str = LOCAL_ISSUER, audience: str = "s8") -> None:
        self.issuer = issuer
        self.audience = audience
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test"})

    async def fetch_json(self, url: str) -> dict[str, Any]:
        if url.endswith("/.well-known/openid-configuration"):
            return {"issuer": self.issuer, "jwks_uri": f"{self.issuer}/certs"}
        return dict(KeySet([self.key]).as_dict(private=False))

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(JwksCache(self.issuer, self.fetch_json), audience=self.audience)

    def token(self, actor: str, *roles: str, key: RSAKey | None = None, **claims: Any) -> str:
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer, "aud": self.audience, "sub": f"sub-{actor}", "iat": now,
            "exp": now + 300, "preferred_username": actor, "azp": "test",
            "realm_access": {"roles": list(roles)},
        }  # fmt: skip
        body.update(claims)
        signer = key or self.key
        return jwt.encode({"alg": "RS256", "kid": signer.kid}, body, signer)

    def headers(self, actor: str, *roles: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(actor, *roles, **claims)}"}

    def client(self, app: FastAPI, actor: str, *roles: str) -> httpx.AsyncClient:
        """A client of `app` in this process, signed in as `actor` with `roles` (the app
        trusts this issuer from now on)."""
        app.state.verifier = self.verifier()
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://app",
            headers=self.headers(actor, *roles),
        )


class ProviderTokens:
    """Tokens from a running OpenID provider's token endpoint, cached until shortly before
    they expire: people by the password grant on the desk client (the demo and test people),
    systems (`channel-*`, `s8-*` clients) by client credentials. Thread-safe; the async
    methods fetch in a worker thread on a cache miss."""

    def __init__(self, issuer: str = LOCAL_ISSUER, secret: str = DEV_SECRET) -> None:
        self.issuer = issuer.rstrip("/")
        self.secret = secret
        self._cache: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def token_sync(self, name: str) -> str:
        with self._lock:
            cached = self._cache.get(name)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            if name.startswith(("channel-", "s8-")):
                form = {"grant_type": "client_credentials", "client_id": name,
                        "client_secret": self.secret}  # fmt: skip
            else:
                form = {"grant_type": "password", "client_id": DESK_CLIENT, "username": name,
                        "password": DEMO_PASSWORD, "scope": "openid"}  # fmt: skip
            reply = httpx.post(
                f"{self.issuer}/protocol/openid-connect/token", data=form, timeout=30
            )
            if reply.status_code != 200:
                raise RuntimeError(f"no token for {name}: {reply.status_code} {reply.text[:300]}")
            body = reply.json()
            expires = time.monotonic() + float(body.get("expires_in", 300)) - REFRESH_MARGIN_SECONDS
            self._cache[name] = (str(body["access_token"]), expires)
            return str(body["access_token"])

    def headers_sync(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token_sync(name)}"}

    async def token(self, name: str) -> str:
        cached = self._cache.get(name)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        return await asyncio.to_thread(self.token_sync, name)

    async def person(self, username: str) -> str:
        return await self.token(username)

    async def client(self, client_id: str) -> str:
        return await self.token(client_id)

    async def headers_for(self, name: str) -> dict[str, str]:
        """`channel-*`, `s8-*` names are clients; other names are people."""
        return {"Authorization": f"Bearer {await self.token(name)}"}


class BearerAuth(httpx.Auth):
    """An httpx client's default identity: every request carries `name`'s token unless it
    sets its own Authorization header."""

    def __init__(self, tokens: ProviderTokens, name: str) -> None:
        self.tokens = tokens
        self.name = name

    async def async_auth_flow(self, request: httpx.Request) -> Any:
        if "Authorization" not in request.headers:
            request.headers.update(await self.tokens.headers_for(self.name))
        yield request


ACTOR_FIELDS = ("actor_id", "approver_id", "declared_by", "updated_by")


class CallerAuth(httpx.Auth):
    """Who calls in integration tests, as the request says: the person its body or query
    names as acting (`actor_id`, `approver_id`, `declared_by`, `updated_by`, `agent_id`)
    calls with their own token, a channel's webhook (and a customer's `not_helpful`) with the
    channel system's, anything else as `default` (the test realm's `tester`: every staff
    role). A request with its own Authorization header keeps it."""

    requires_request_body = True

    def __init__(self, tokens: ProviderTokens, default: str = "tester") -> None:
        self.tokens = tokens
        self.default = default

    def caller(self, request: httpx.Request) -> str:
        path = request.url.path
        if path.startswith("/v1/inbound/"):
            return "channel-" + path.rsplit("/", 1)[-1].replace("_", "-")
        if path.startswith("/v1/surveys/") and path.endswith("/answers"):
            return "channel-live-chat"  # rating buttons in the chat widget
        body: Any = None
        if "json" in request.headers.get("content-type", "") and request.content:
            with contextlib.suppress(ValueError):
                body = json.loads(request.content)
        if isinstance(body, dict):
            if body.get("kind") == "not_helpful":
                return "channel-live-chat"
            for field in ACTOR_FIELDS:
                if isinstance(body.get(field), str) and body[field]:
                    return str(body[field])
        for field in ("actor_id", "agent_id"):
            if named := request.url.params.get(field):
                return str(named)
        return self.default

    async def async_auth_flow(self, request: httpx.Request) -> Any:
        if "Authorization" not in request.headers:
            request.headers.update(await self.tokens.headers_for(self.caller(request)))
        yield request
