"""Bearer token verification (joserfc): signature against the issuer's JWKS, an algorithm
allow-list, `iss`, `aud`, `exp` and `nbf`; the result is the caller's `Principal`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jws import extract_compact

from s8_shared.identity.jwks import JwksCache
from s8_shared.identity.principal import Principal, principal_of

MAX_TOKEN_CHARS = 8192  # a bounded input like any other
DEFAULT_ALGORITHMS = ("RS256", "PS256", "ES256")


class Unauthorized(Exception):
    """The token is missing, malformed, not signed by the issuer or not valid now."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenVerifier:
    def __init__(
        self,
        jwks: JwksCache,
        *,
        audience: str,
        algorithms: Sequence[str] = DEFAULT_ALGORITHMS,
        roles_claim: str = "realm_access.roles",
        actor_claim: str = "preferred_username",
        leeway_seconds: int = 30,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.jwks = jwks
        self.audience = audience
        self.algorithms = list(algorithms)
        self.roles_claim = roles_claim
        self.actor_claim = actor_claim
        self.leeway_seconds = leeway_seconds
        self.now = now

    async def verify(self, token: str) -> Principal:
        if not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
            raise Unauthorized("no bearer token, or not one")
        try:
            header = extract_compact(token.encode()).protected
        except (JoseError, ValueError) as exc:
            raise Unauthorized(f"malformed token: {exc}") from exc
        if header.get("alg") not in self.algorithms:
            raise Unauthorized(f"algorithm {header.get('alg')!r} is not allowed")
        kid = header.get("kid")
        try:
            keys = await self.jwks.key_set(kid if isinstance(kid, str) else None)
        except Exception as exc:  # the issuer unreachable and nothing cached
            raise Unauthorized(f"the issuer's keys are not available: {exc!r}") from exc
        try:
            verified = jwt.decode(token, keys, algorithms=self.algorithms)
            claims = verified.claims
            jwt.JWTClaimsRegistry(
                now=lambda: int(self.now()),
                leeway=self.leeway_seconds,
                iss={"essential": True, "value": self.jwks.issuer},
                aud={"essential": True, "value": self.audience},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(claims)
        except (JoseError, ValueError) as exc:
            raise Unauthorized(f"{type(exc).__name__}: {exc}") from exc
        return principal_of(claims, roles_claim=self.roles_claim, actor_claim=self.actor_claim)
