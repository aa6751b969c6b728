"""Channel keys: for channel systems that cannot get OAuth tokens (a PBX, an old mail relay).

A key is configured by its SHA-256 only (keys are long random strings, so a plain hash is
enough: nothing to brute-force), for one channel or all (`*`), and is valid on
`POST /v1/inbound/{channel}` and nowhere else. Two keys per channel may be active at once, so a
key is rotated without downtime: add the new one, move the system over, remove the old one.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from s8_shared.identity.principal import Principal

MAX_ACTIVE_PER_CHANNEL = 2
MAX_KEY_CHARS = 512


class ChannelKey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$",
                    description="Names the key in logs and as the actor (e.g. `pbx-2026-12`).")  # fmt: skip
    channel: str = Field(min_length=1, max_length=32, description="A channel name, or `*`.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 (hex) of the key.")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_rotation(keys: Sequence[ChannelKey]) -> None:
    """At most two active keys per channel scope (the old and the new one)."""
    crowded = [c for c, n in Counter(k.channel for k in keys).items() if n > MAX_ACTIVE_PER_CHANNEL]
    if crowded:
        raise ValueError(
            f"more than {MAX_ACTIVE_PER_CHANNEL} channel keys for {', '.join(crowded)}"
        )


def channel_principal(keys: Sequence[ChannelKey], channel: str, given: bytes) -> Principal | None:
    """The channel system a key names, for `channel` only; None for any other key. Every
    configured key is compared, in constant time, so timing says nothing about which matched."""
    if not given or len(given) > MAX_KEY_CHARS:
        return None
    digest = hashlib.sha256(given).hexdigest().encode()
    found: ChannelKey | None = None
    for key in keys:
        if hmac.compare_digest(digest, key.sha256.encode()) and key.channel in (channel, "*"):
            found = key
    if found is None:
        return None
    return Principal(f"channel-key:{found.id}", found.id, frozenset({"channel"}), None, frozenset({channel}))  # fmt: skip
