"""Bearer tokens signed locally against a JWKS fixture (integration tests use Keycloak's)."""

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from s8_shared.identity import JwksCache, Principal, TokenVerifier, Unauthorized

ISSUER = "http://127.0.0.1:8080/realms/s8"
AUDIENCE = "s8-intake"


class Issuer:
    """An OpenID provider's discovery document and JWKS, with key rotation."""

    def __init__(self) -> None:
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": "k1"})]
        self.fetches: list[str] = []

    def rotate(self, kid: str) -> RSAKey:
        key = RSAKey.generate_key(2048, parameters={"kid": kid})
        self.keys.append(key)
        return key

    async def fetch_json(self, url: str) -> dict[str, Any]:
        self.fetches.append(url)
        if url == f"{ISSUER}/.well-known/openid-configuration":
            return {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/protocol/openid-connect/certs"}
        assert url == f"{ISSUER}/protocol/openid-connect/certs"
        return dict(KeySet(list(self.keys)).as_dict(private=False))


def token(key: RSAKey, alg: str = "RS256", **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "f3a1", "exp": now + 300, "iat": now,
        "preferred_username": "lan", "azp": "s8-desk", "realm_access": {"roles": ["agent", "offline_access"]},
    }  # fmt: skip
    claims.update(overrides)
    return jwt.encode({"alg": alg, "kid": key.kid}, {k: v for k, v in claims.items() if v is not None}, key)  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def verifier(issuer: Issuer, clock: Clock) -> TokenVerifier:
    return TokenVerifier(JwksCache(ISSUER, issuer.fetch_json, clock=clock), audience=AUDIENCE)


async def test_a_valid_token_names_the_principal_with_s8_roles_only(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    principal = await verifier.verify(token(issuer.keys[0]))
    assert principal == Principal(subject="f3a1", actor_id="lan", roles=frozenset({"agent"}), client_id="s8-desk")  # fmt: skip
    assert principal.has("agent", "lead")
    assert not principal.has("admin")


async def test_roles_are_read_where_the_provider_puts_them(issuer: Issuer, clock: Clock) -> None:
    verifier = TokenVerifier(JwksCache(ISSUER, issuer.fetch_json, clock=clock), audience=AUDIENCE, roles_claim="roles")  # fmt: skip
    principal = await verifier.verify(
        token(issuer.keys[0], roles=["analyst", 7], realm_access=None)
    )
    assert principal.roles == frozenset({"analyst"})
    # A system's token (client credentials) has no person: it acts as its client.
    system = await verifier.verify(token(issuer.keys[0], preferred_username=None, azp="zalo-oa"))
    assert system.actor_id == "zalo-oa"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(time.time()) - 120}, "ExpiredTokenError"),
        ({"nbf": int(time.time()) + 600}, "not yet valid"),
        ({"aud": "s8-router"}, "'aud'"),
        ({"iss": "http://evil.example/realms/s8"}, "'iss'"),
        ({"sub": None}, "'sub'"),
    ],
)
async def test_a_token_not_valid_now_or_not_for_this_service_is_refused(
    issuer: Issuer, verifier: TokenVerifier, claims: dict[str, Any], reason: str
) -> None:
    with pytest.raises(Unauthorized, match=reason):
        await verifier.verify(token(issuer.keys[0], **claims))


async def test_a_token_signed_by_another_key_or_with_alg_none_is_refused(
    issuer: Issuer, verifier: TokenVerifier
) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "k1"})  # same kid, other key
    with pytest.raises(Unauthorized, match="BadSignatureError"):
        await verifier.verify(token(stranger))
    unsigned = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJtYWxsb3J5In0."
    with pytest.raises(Unauthorized, match="'none' is not allowed"):
        await verifier.verify(unsigned)
    hs = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2lnbmF0dXJl"  # a symmetric "signature"
    with pytest.raises(Unauthorized, match="'HS256' is not allowed"):
        await verifier.verify(hs)
    for garbage in ("", "x" * 9000, "a.b.c", "ệ.ệ.ệ"):
        with pytest.raises(Unauthorized):
            await verifier.verify(garbage)


async def test_a_rotated_key_is_fetched_once_and_unknown_key_ids_do_not_hammer_the_issuer(
    issuer: Issuer, verifier: TokenVerifier, clock: Clock
) -> None:
    await verifier.verify(token(issuer.keys[0]))
    assert len(issuer.fetches) == 2  # discovery, then the keys
    await verifier.verify(token(issuer.keys[0]))
    assert len(issuer.fetches) == 2  # cached
    clock.t += 60
    new = issuer.rotate("k2")
    assert (await verifier.verify(token(new))).actor_id == "lan"
    assert len(issuer.fetches) == 4  # the new key id made it fetch again
    made_up = RSAKey.generate_key(2048, parameters={"kid": "k-made-up"})
    for _ in range(5):
        with pytest.raises(Unauthorized, match="InvalidKeyIdError"):
            await verifier.verify(token(made_up))
    assert len(issuer.fetches) == 4  # within min_refresh_seconds: no fetch at all
    clock.t += 3601
    await verifier.verify(token(new))
    assert len(issuer.fetches) == 6  # refreshed after max_age_seconds


async def test_an_issuer_whose_discovery_names_another_issuer_is_not_trusted(clock: Clock) -> None:
    async def impostor(url: str) -> dict[str, Any]:
        return {"issuer": "http://evil.example", "jwks_uri": "http://evil.example/keys"}

    verifier = TokenVerifier(JwksCache(ISSUER, impostor, clock=clock), audience=AUDIENCE)
    with pytest.raises(Unauthorized, match="another issuer"):
        await verifier.verify(token(RSAKey.generate_key(2048, parameters={"kid": "k1"})))
