"""Every route of every service, read from its OpenAPI document: no token → 401, a token of the
wrong role → 403, a token of a role the route names → past the door (neither 401 nor 403;
200 for the reads that need no parameter; the flow tests get the 2xx of the others).
Tokens come from the local Keycloak; a route that names no roles fails the test (a new route
cannot be left open by forgetting them). Bad tokens (expired, another signer, `alg: none`,
another audience) → 401."""

import base64
import json
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from s8_analytics.app import build as build_analytics
from s8_analytics.settings import AnalyticsSettings
from s8_channels.app import build as build_channels
from s8_channels.settings import ChannelsSettings
from s8_desk.app import build as build_desk
from s8_desk.settings import DeskSettings
from s8_intake.app import build as build_intake
from s8_intake.settings import IntakeSettings
from s8_router.app import build as build_router
from s8_router.settings import RouterSettings
from s8_shared.identity import ROLES
from s8_shared.settings import ServiceSettings
from s8_sla_monitor.app import build as build_sla
from s8_sla_monitor.settings import SlaMonitorSettings
from s8_survey.app import build as build_survey
from s8_survey.settings import SurveySettings
from s8_testing.harness import TestStack
from s8_testing.tokens import LocalIssuer

pytestmark = pytest.mark.integration

# Who holds each role in the local realm (deploy/local/keycloak/s8-realm.json).
HOLDER = {"agent": "lan", "lead": "ha", "admin": "an", "analyst": "thao",
          "channel": "channel-email", "service": "s8-intake"}  # fmt: skip
ROLES_OF = {"lan": {"agent"}, "ha": {"agent", "lead"}, "an": {"admin"}, "thao": {"analyst"},
            "channel-email": {"channel"}, "s8-intake": {"service"}}  # fmt: skip
OPEN = {"/healthz", "/readyz", "/metrics", "/asyncapi.json", "/s/{token}"}  # public by design
SERVICES: list[tuple[str, Callable[[Any], Any], type[ServiceSettings]]] = [
    ("intake", build_intake, IntakeSettings),
    ("router", build_router, RouterSettings),
    ("sla-monitor", build_sla, SlaMonitorSettings),
    ("survey", build_survey, SurveySettings),
    ("analytics", build_analytics, AnalyticsSettings),
    ("desk", build_desk, DeskSettings),
    ("channels", build_channels, ChannelsSettings),
]
# Platforms prove themselves by a signature or a secret in the URL, not a bearer token: their
# routes name that scheme, and a request without it is refused (the handshake: 403).
PLATFORM_SCHEMES = {"metaSignature", "metaVerifyToken", "zaloSignature", "twilioSignature",
                    "stringeeUrlToken"}  # fmt: skip
# Endless responses: the door is checked here, an admitted stream in tests/test_desk_flows.py.
STREAMS = {"/v1/stream"}


def routes(app: FastAPI) -> list[tuple[str, str, list[str] | None]]:
    """(method, path, roles) of every operation; roles None when the route names none, and
    the platform scheme's name (one item) for a route platforms call."""
    found: list[tuple[str, str, list[str] | None]] = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            requirements = operation.get("security") or []
            schemes = {name for req in requirements for name in req}
            if schemes and schemes <= PLATFORM_SCHEMES:
                found.append((method.upper(), path, sorted(schemes)))
                continue
            roles = sorted({r for req in requirements for r in req.get("bearer", [])})
            found.append((method.upper(), path, roles if requirements else None))
    return found


def concrete(path: str, caller: str = "lan") -> str:
    """The path with its parameters filled in (an agent's own resources: the caller's)."""
    path = path.replace("{agent_id}", caller)
    return re.sub(r"\{[^}]+\}", "email" if "inbound" in path else "x1", path)


def wrong_holder(roles: list[str]) -> str | None:
    for holder, held in ROLES_OF.items():
        if not held & set(roles):
            return holder
    return None


@pytest.mark.parametrize(("name", "build", "settings_cls"), SERVICES, ids=[s[0] for s in SERVICES])
async def test_every_route_admits_only_its_roles(
    stack: TestStack, name: str, build: Callable[[Any], Any], settings_cls: type[ServiceSettings]
) -> None:
    _, app = build(stack.settings(settings_cls))
    tokens = stack.tokens
    checked = answered = platform_routes = 0
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://s"
    ) as http:
        for method, path, roles in routes(app):
            if path in OPEN:
                assert roles is None, f"{method} {path} is public by design"
                continue
            assert roles, f"{name}: {method} {path} names no roles: every route must"
            if set(roles) <= PLATFORM_SCHEMES:  # no signature, no token: refused
                unsigned = await http.request(method, concrete(path), json={} if method == "POST" else None)  # fmt: skip
                expected = 403 if "metaVerifyToken" in roles else 401
                assert unsigned.status_code == expected, f"{method} {path}: {unsigned.text}"
                platform_routes += 1
                continue
            assert set(roles) <= ROLES, (path, roles)
            url = concrete(path)
            body: dict[str, Any] | None = {} if method in ("POST", "PUT", "PATCH") else None
            anonymous = await http.request(method, url, json=body)
            assert anonymous.status_code == 401, f"{method} {path} without a token"
            if (wrong := wrong_holder(roles)) is not None:
                refused = await http.request(method, url, json=body, headers=await tokens.headers_for(wrong))  # fmt: skip
                assert refused.status_code == 403, f"{method} {path} as {wrong}: {refused.text}"
            for role in roles if path not in STREAMS else ():
                own = concrete(path, HOLDER[role])
                admitted = await http.request(method, own, json=body, headers=await tokens.headers_for(HOLDER[role]))  # fmt: skip
                assert admitted.status_code not in (401, 403), f"{method} {path} as {role}: {admitted.text}"  # fmt: skip
                if method == "GET" and "{" not in path:  # a read of the whole: answers
                    assert admitted.status_code == 200, f"{method} {path} as {role}: {admitted.text}"  # fmt: skip
                    answered += 1
            checked += 1
    if name == "channels":  # every route of it is a platform's (and the ops routes)
        assert platform_routes >= 6
        return
    assert checked >= 3
    assert answered >= 1  # every service has a list or report its readers get


def _unsigned(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


async def test_bad_tokens_are_refused_on_every_service(stack: TestStack) -> None:
    real = await stack.tokens.person("an")  # an admin: every bad variant of a good caller
    payload = real.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    other_key = LocalIssuer()  # the same issuer name, another signing key
    now = int(time.time())
    bad = {
        "signed by another key": other_key.token("an", "admin"),
        "alg none": _unsigned(claims),
        "expired": other_key.token("an", "admin", exp=now - 3600),
        "another audience": other_key.token("an", "admin", aud="not-s8"),
        "tampered": real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB"),
        "not a JWT": "x" * 40,
    }
    for name, build, settings_cls in SERVICES:
        if name == "channels":
            continue  # platforms only: it accepts no bearer token at all
        _, app = build(stack.settings(settings_cls))
        method, path, _roles = next(r for r in routes(app) if r[2] and "admin" in r[2])
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://s"
        ) as http:
            good = await http.request(method, concrete(path), headers={"Authorization": f"Bearer {real}"})  # fmt: skip
            assert good.status_code not in (401, 403), (name, path, good.text)
            for why, token in bad.items():
                reply = await http.request(method, concrete(path), headers={"Authorization": f"Bearer {token}"})  # fmt: skip
                assert reply.status_code == 401, (
                    f"{name} {method} {path}: {why} → {reply.status_code}"
                )
