"""The web inbox's files, served by the desk: the shell carries only public configuration
(escaped), its policy lets the page reach the desk and the provider and nothing else, only
the package's own files are served, and none of them loads anything from the internet."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError

from s8_desk.app import build
from s8_desk.pages import ASSETS, SHELL
from s8_desk.settings import DeskSettings

ISSUER = "http://127.0.0.1:18080/realms/s8"


@pytest.fixture
async def desk() -> AsyncIterator[httpx.AsyncClient]:
    settings = DeskSettings(
        mongo_uri="mongodb://127.0.0.1:1",  # never reached
        oidc_issuer=ISSUER,
        inbox_issuer_url="https://id.example.vn/realms/s8",
        inbox_client_id='s8-desk"><script>alert(1)</script>',
    )
    _, app = build(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://desk") as http:  # fmt: skip
        yield http


async def test_the_shell_names_the_issuer_browsers_reach_and_the_client_escaped(
    desk: httpx.AsyncClient,
) -> None:
    page = await desk.get("/inbox")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "&quot;issuer&quot;: &quot;https://id.example.vn/realms/s8&quot;" in page.text
    assert "s8-desk\\&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>" not in page.text


def test_an_issuer_address_that_is_not_a_plain_url_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="inbox_issuer_url"):
        DeskSettings(inbox_issuer_url='https://id.example.vn/"><script>')


async def test_the_shell_may_reach_only_the_desk_and_the_provider(desk: httpx.AsyncClient) -> None:
    headers = (await desk.get("/inbox")).headers
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self';" in policy
    assert "connect-src 'self' https://id.example.vn;" in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["referrer-policy"] == "no-referrer"  # the code in its address goes nowhere


async def test_only_the_inbox_files_are_served_and_an_unchanged_one_is_not_sent_again(
    desk: httpx.AsyncClient,
) -> None:
    script = await desk.get("/inbox/static/inbox.js")
    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    again = await desk.get("/inbox/static/inbox.js", headers={"If-None-Match": script.headers["etag"]})  # fmt: skip
    assert (again.status_code, again.content) == (304, b"")
    assert (await desk.get("/inbox/static/inbox.css")).headers["content-type"].startswith("text/css")  # fmt: skip
    for name in ("inbox.html", "..%2Fpages.py", "%2E%2E/settings.py", "missing.js"):
        assert (await desk.get(f"/inbox/static/{name}")).status_code == 404, name


async def test_the_inbox_is_not_part_of_the_api_document(desk: httpx.AsyncClient) -> None:
    paths = (await desk.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith("/inbox")]


def test_no_file_of_the_inbox_loads_anything_from_the_internet() -> None:
    texts = {name: asset.body.decode() for name, asset in ASSETS.items()} | {"inbox.html": SHELL}
    for name, text in texts.items():
        assert not re.search(r"(src|href)=\"(https?:)?//", text), name
        assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", text), name
        assert not re.search(r"import .* from \"(?!\./)", text), name


def test_every_module_the_scripts_import_is_served() -> None:
    for name, asset in ASSETS.items():
        for imported in re.findall(r"from \"\./([\w.]+)\"", asset.body.decode()):
            assert imported in ASSETS, f"{name} imports {imported}, which is not served"


def test_both_languages_have_every_text() -> None:
    texts = ASSETS["texts.js"].body.decode()
    vi, en = texts.split("\n  en: {")
    keys = [set(re.findall(r"\b([a-z_]+): \"", part)) for part in (vi, en)]
    assert keys[0] == keys[1]
    used = set(re.findall(r'data-t="([a-z_]+)"', SHELL))
    for asset in ASSETS.values():
        used |= set(re.findall(r"\bt\(\"([a-z_]+)\"", asset.body.decode()))
    assert used - keys[1] == set()
