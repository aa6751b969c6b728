from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI, Request

from s8_shared.http_limits import BodyLimitMiddleware


def app_with_limit(max_bytes: int) -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    app.add_middleware(BodyLimitMiddleware, max_bytes=max_bytes)
    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_a_body_within_the_limit_reaches_the_handler() -> None:
    async with client(app_with_limit(1024)) as http:
        response = await http.post("/echo", content=b"x" * 1024)
    assert (response.status_code, response.json()) == (200, {"bytes": 1024})


async def test_a_declared_length_over_the_limit_is_refused_with_413() -> None:
    async with client(app_with_limit(1024)) as http:
        response = await http.post("/echo", content=b"x" * 1025)
    assert response.status_code == 413
    assert "larger than 1024 bytes" in response.json()["detail"]


async def test_a_streamed_body_is_cut_off_once_it_passes_the_limit() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"x" * 512

    async with client(app_with_limit(4096)) as http:
        response = await http.post("/echo", content=chunks())  # chunked: no Content-Length
    assert response.status_code == 413


async def test_a_malformed_content_length_is_a_bad_request() -> None:
    async with client(app_with_limit(4096)) as http:
        response = await http.post("/echo", content=b"{}", headers={"Content-Length": "-1"})
    assert response.status_code == 400
