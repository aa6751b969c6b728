"""The authenticated caller of an API: its subject, the agent it acts as, and its roles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

Role = Literal["channel", "agent", "lead", "admin", "analyst", "service"]
ROLES: frozenset[str] = frozenset(get_args(Role))
CHANNELS_CLAIM = "s8_channels"


@dataclass(frozen=True)
class Principal:
    subject: str  # the token's `sub`
    actor_id: str  # who it acts as (an agent id for people, the client id for systems)
    roles: frozenset[str]
    client_id: str | None = None  # `azp`: the OAuth client the token was issued to
    # The channels a channel system may send (`s8_channels`: a list, or names separated by
    # commas); empty means every channel.
    channels: frozenset[str] = frozenset()

    def has(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """The claim at a dotted path (`realm_access.roles` in Keycloak, `roles` elsewhere)."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def principal_of(claims: dict[str, Any], *, roles_claim: str, actor_claim: str) -> Principal:
    """The principal a verified token names; only s8's own role names count as roles."""
    found = claim_at(claims, roles_claim)
    names = found if isinstance(found, list) else []
    roles = frozenset(r for r in names if isinstance(r, str) and r in ROLES)
    subject = str(claims.get("sub") or "")
    client = claims.get("azp") if isinstance(claims.get("azp"), str) else None
    actor = claim_at(claims, actor_claim)
    actor_id = actor if isinstance(actor, str) and actor else (client or subject)
    found = claims.get(CHANNELS_CLAIM)
    listed = (
        found.split(",") if isinstance(found, str) else found if isinstance(found, list) else []
    )
    channels = frozenset(c.strip() for c in listed if isinstance(c, str) and c.strip())
    return Principal(subject, actor_id, roles, client, channels)
