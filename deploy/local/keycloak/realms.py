"""Writes the local Keycloak's realms (s8-realm.json, s8-test-realm.json) beside this file.

`s8` is `make run`'s: a confidential client per service and per channel system, the workforce
system, the desk's public client, the demo roster's people, an admin and an analyst. `s8-test`
is the integration tests': the same clients and roles, plus the people the tests act as.
Development secrets only (`s8-dev-only-secret`, people `s8-demo`); Keycloak listens on 127.0.0.1.

    .venv/bin/python deploy/local/keycloak/realms.py   # after a change; tests compare the files
    .venv/bin/python deploy/local/keycloak/realms.py --apply   # also into the running Keycloak

Keycloak imports these files when it starts (deploy/local/keycloak.sh: a changed file starts
its database afresh); `--apply` puts the desk client's changes into a running one instead,
through its admin API, without a restart.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SECRET = "s8-dev-only-secret"
PASSWORD = "s8-demo"
SERVICES = ("intake", "router", "sla-monitor", "survey", "analytics")
CHANNELS = ("email", "live_chat", "social", "phone", "sms", "web_form", "chatbot", "on_site")
DESK_CLIENT = "s8-desk"
INBOX_PORT = 8006  # the desk of `make run` (deploy/local/stack.py)
TEST_INBOX_PORT = 18006  # the desk of the inbox's browser test (tests/test_desk_inbox_browser.py)
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


def desk_client(*, test: bool = False) -> dict[str, Any]:
    """The agents' inbox (`/inbox` of the desk) signs in here with PKCE; the demo scripts and
    tests use the password grant. Keycloak takes an http redirect URI on a loopback host
    (127.0.0.1, localhost, [::1]) with any port (RFC 8252 §7.3), so `http://127.0.0.1/*`
    covers the inbox wherever it listens locally; but the browser's calls to the token
    endpoint (CORS) are allowed only from origins listed exactly, port included."""
    ports = (INBOX_PORT, TEST_INBOX_PORT) if test else (INBOX_PORT,)
    origins = [f"http://{host}:{port}" for port in ports for host in ("127.0.0.1", "localhost")]
    return {
        "clientId": DESK_CLIENT, "name": "s8 agent desk and demo scripts", "enabled": True,
        "protocol": "openid-connect", "publicClient": True, "standardFlowEnabled": True,
        "directAccessGrantsEnabled": True, "implicitFlowEnabled": False,
        "redirectUris": ["http://127.0.0.1/*", "http://localhost/*"], "webOrigins": origins,
        # "+": signing out may return to any page signing in may (the inbox).
        "attributes": {"pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "+"},
        "protocolMappers": [AUDIENCE],
    }  # fmt: skip


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
    desk = desk_client(test=test)
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


def _call(method: str, url: str, token: str | None = None, body: Any = None, form: dict[str, str] | None = None) -> Any:  # fmt: skip
    data, headers = None, {"Accept": "application/json"}
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
    elif body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=30) as reply:
        text = reply.read()
    return json.loads(text) if text else None


def apply(base: str, admin_password: str = SECRET) -> list[str]:
    """Updates the desk client of each realm in the running Keycloak at `base` to what these
    files say (its admin API, as the local master admin); the realms it updated."""
    login = {"grant_type": "password", "client_id": "admin-cli", "username": "admin",
             "password": admin_password}  # fmt: skip
    token = _call("POST", f"{base}/realms/master/protocol/openid-connect/token", form=login)["access_token"]  # fmt: skip
    updated = []
    for text in documents().values():
        name = json.loads(text)["realm"]
        wanted = desk_client(test=name == "s8-test")
        admin = f"{base}/admin/realms/{name}/clients"
        [current] = _call("GET", f"{admin}?clientId={DESK_CLIENT}", token)
        merged = {**current, **{k: v for k, v in wanted.items() if k != "protocolMappers"}}
        merged["attributes"] = {**current.get("attributes", {}), **wanted["attributes"]}
        _call("PUT", f"{admin}/{current['id']}", token, merged)
        updated.append(name)
    return updated


if __name__ == "__main__":
    for file, text in documents().items():
        (HERE / file).write_text(text, encoding="utf-8")
        print(f"wrote {HERE / file}")
    if "--apply" in sys.argv[1:]:
        keycloak = f"http://127.0.0.1:{os.environ.get('S8_KEYCLOAK_PORT', '18080')}"
        for name in apply(keycloak):
            print(f"updated the {DESK_CLIENT} client of realm {name} in {keycloak}")
