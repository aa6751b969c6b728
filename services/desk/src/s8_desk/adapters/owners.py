"""Writes go to the services that own them, made by the signed-in agent: the desk passes
the agent's own bearer token on, so intake and the router check who acts and with which
role themselves, and their answer (applied, or refused with the reason) comes back as is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


class Owners:
    def __init__(self, intake_url: str, router_url: str, client: httpx.AsyncClient) -> None:
        self.intake_url, self.router_url, self.client = intake_url, router_url, client

    async def intake(self, method: str, path: str, token: str, body: Any) -> Answer:
        return await self._send(self.intake_url, method, path, token, body)

    async def router(self, method: str, path: str, token: str, body: Any = None) -> Answer:
        return await self._send(self.router_url, method, path, token, body)

    async def _send(self, base: str, method: str, path: str, token: str, body: Any) -> Answer:
        try:
            reply = await self.client.request(
                method,
                base.rstrip("/") + path,
                json=body,
                headers={"Authorization": f"Bearer {token}"},
                timeout=TIMEOUT_SECONDS,
            )
        except httpx.HTTPError as exc:
            return Answer(503, {"detail": f"the owning service did not answer: {type(exc).__name__}"})  # fmt: skip
        try:
            return Answer(reply.status_code, reply.json())
        except ValueError:
            return Answer(reply.status_code, {"detail": reply.text[:500]})
