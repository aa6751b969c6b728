"""The issuer's signing keys, from its discovery document, cached with key rotation.

A token signed with a key id the cache does not hold makes it fetch the keys again (the
issuer rotated them), at most once per `min_refresh_seconds`, so tokens with made-up key ids
cannot make s8 hammer the issuer; the keys are refreshed anyway after `max_age_seconds`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from joserfc.jwk import KeySet

FetchJson = Callable[[str], Awaitable[dict[str, Any]]]


class JwksCache:
    def __init__(
        self,
        issuer: str,
        fetch_json: FetchJson,
        *,
        min_refresh_seconds: float = 30.0,
        max_age_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer  # exactly as the tokens' `iss` and the discovery document say it
        self.fetch_json = fetch_json
        self.min_refresh_seconds = min_refresh_seconds
        self.max_age_seconds = max_age_seconds
        self.clock = clock
        self._keys: KeySet | None = None
        self._kids: frozenset[str] = frozenset()
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key_set(self, kid: str | None) -> KeySet:
        """The keys to verify a token signed with `kid` (raises when the issuer cannot be
        reached and nothing is cached)."""
        async with self._lock:
            age = self.clock() - self._fetched_at
            unknown = kid is not None and kid not in self._kids
            if self._keys is None or age > self.max_age_seconds or (unknown and age > self.min_refresh_seconds):  # fmt: skip
                await self._refresh()
            assert self._keys is not None
            return self._keys

    async def _refresh(self) -> None:
        discovery = await self.fetch_json(f"{self.issuer.rstrip('/')}/.well-known/openid-configuration")  # fmt: skip
        if discovery.get("issuer") != self.issuer:
            raise ValueError(f"the discovery document names another issuer: {discovery.get('issuer')!r}")  # fmt: skip
        jwks = await self.fetch_json(str(discovery["jwks_uri"]))
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        self._keys = keys
        self._kids = frozenset(str(k.kid) for k in keys.keys if k.kid)
        self._fetched_at = self.clock()
