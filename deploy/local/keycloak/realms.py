"""Writes the local Keycloak's realms (s8-realm.json, s8-test-realm.json) beside this file.

`s8` is `make run`'s: a confidential client per service and per channel system, the workforce
system, the desk's public client, the demo roster's people, an admin and an analyst. `s8-test`
is the integration tests': the same clients and roles, plus the people the tests act as.
Development secrets only (`s8-dev-only-secret`, people `s8-demo`); Keycloak listens on 127.0.0.1.

    .venv/bin/python deploy/local/keycloak/realms.py   # after a change; tests compare the files
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SECRET = "s8-dev-only-secret"
PASSWORD = "s8-demo"
SERVICES = ("intake", "router", "sla-monitor", "survey", "analytics")
CHANNELS = ("email", "live_chat", "social", "phone", "sms", "web_form", "chatbot", "on_site")
ROLES = {
    "channel": "A channel system: only POST /v1/inbound/{channel}",
    "agent": "Acts on tickets as themselves; their own presence and offers",
    "lead": "Approvals, problems, knowledge base, their team's roster and presence",
    "admin": "Policies, calendars, classification rules, agent tiers and leads, API clients",
    "analyst": "KPIs, backlog, queues, clocks: read only",
    "service": "What the services need of each other",
}
DEMO_PEOPLE = [
    ("lan", "Lan", "Nguyễn Thị", ["agent"]), ("minh", "Minh", "Trần Văn", ["agent"]),
    ("emily", "Emily", "Carter", ["agent"]), ("huy", "Huy", "Đỗ Quang", ["agent"]),
    ("ha", "Hà", "Phạm Thu", ["agent", "lead"]), ("tuan", "Tuấn", "Lê Anh", ["agent"]),
    ("khoa", "Khoa", "Võ Minh", ["agent"]), ("an", "An", "Hoàng", ["admin"]),
    ("thao", "Thảo", "Ngô", ["analyst"]),
]  # fmt: skip
TEST_PEOPLE = [
    ("agent-1", "Agent", "One", ["agent"]), ("agent-2", "Agent", "Two", ["agent", "lead"]),
    ("agent-7", "Agent", "Seven", ["agent"]), ("lead-1", "Lead", "One", ["agent", "lead"]),
    ("stranger", "Not", "Rostered", ["agent"]), ("a", "A", "Agent", ["agent"]),
    ("tester", "Every", "Role", ["agent", "lead", "admin", "analyst"]),
]  # fmt: skip


def _mapper(name: str, kind: str, config: dict[str, str]) -> dict[str, Any]:
    claim = {"access.token.claim": "true", "id.token.claim": "false", "introspection.token.claim": "true"}  # fmt: skip
    return {"name": name, "protocol": "openid-connect", "protocolMapper": kind, "config": {**claim, **config}}  # fmt: skip


AUDIENCE = _mapper("audience-s8", "oidc-audience-mapper", {"included.custom.audience": "s8"})


def _system(client_id: str, name: str, roles: list[str], *mappers: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:  # fmt: skip
    client = {
        "clientId": client_id, "name": name, "enabled": True, "protocol": "openid-connect",
        "publicClient": False, "clientAuthenticatorType": "client-secret", "secret": SECRET,
        "serviceAccountsEnabled": True, "standardFlowEnabled": False,
        "directAccessGrantsEnabled": False, "implicitFlowEnabled": False,
        "protocolMappers": [AUDIENCE, *mappers],
    }  # fmt: skip
    account = {"username": f"service-account-{client_id}", "enabled": True,
               "serviceAccountClientId": client_id, "realmRoles": roles}  # fmt: skip
    return client, account


def realm(
    name: str, display: str, people: list[tuple[str, str, str, list[str]]], *, test: bool = False
) -> dict[str, Any]:
    systems = [_system(f"s8-{s}", f"s8 {s} service", ["service"]) for s in SERVICES]
    systems += [
        _system(f"channel-{c.replace('_', '-')}", f"{c} channel system", ["channel"],
                _mapper("s8-channels", "oidc-hardcoded-claim-mapper",
                        {"claim.name": "s8_channels", "claim.value": c, "jsonType.label": "String"}))
        for c in CHANNELS
    ]  # fmt: skip
    systems.append(_system("s8-workforce", "Workforce system (agent tiers, leads)", ["admin"]))
    if test:  # the HTTP fuzzer's caller: every route's door opens, so the handlers get fuzzed
        systems.append(_system("s8-fuzzer", "make fuzz's schemathesis", list(ROLES)))
    desk = {
        "clientId": "s8-desk", "name": "s8 agent desk and demo scripts", "enabled": True,
        "protocol": "openid-connect", "publicClient": True, "standardFlowEnabled": True,
        "directAccessGrantsEnabled": True, "implicitFlowEnabled": False,
        "redirectUris": ["http://127.0.0.1/*", "http://localhost/*"], "webOrigins": ["+"],
        "attributes": {"pkce.code.challenge.method": "S256"}, "protocolMappers": [AUDIENCE],
    }  # fmt: skip
    users = [
        {"username": u, "enabled": True, "firstName": first, "lastName": last,
         "email": f"{u}@s8.example", "emailVerified": True, "realmRoles": roles,
         "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}]}
        for u, first, last, roles in people
    ]  # fmt: skip
    return {
        "realm": name, "enabled": True, "displayName": display, "sslRequired": "none",
        "accessTokenLifespan": 3600 if test else 900, "registrationAllowed": False,
        "roles": {"realm": [{"name": r, "description": d} for r, d in ROLES.items()]},
        "clients": [c for c, _ in systems] + [desk],
        "users": [a for _, a in systems] + users,
    }  # fmt: skip


def documents() -> dict[str, str]:
    realms = {
        "s8-realm.json": realm("s8", "s8 (local development)", DEMO_PEOPLE),
        "s8-test-realm.json": realm(
            "s8-test", "s8 (integration tests)", DEMO_PEOPLE + TEST_PEOPLE, test=True
        ),
    }
    return {f: json.dumps(r, ensure_ascii=False, indent=1) + "\n" for f, r in realms.items()}


if __name__ == "__main__":
    for file, text in documents().items():
        (HERE / file).write_text(text, encoding="utf-8")
        print(f"wrote {HERE / file}")
