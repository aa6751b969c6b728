"""Who is calling: OpenID Connect bearer tokens verified against the issuer's keys."""

from s8_shared.identity.jwks import JwksCache
from s8_shared.identity.principal import ROLES, Principal, Role
from s8_shared.identity.tokens import TokenVerifier, Unauthorized

__all__ = ["ROLES", "JwksCache", "Principal", "Role", "TokenVerifier", "Unauthorized"]
