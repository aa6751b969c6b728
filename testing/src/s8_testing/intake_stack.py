"""A running intake (real broker and store) driven over HTTP, for cross-service tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from s8_intake.app import IntakeServices, build
from s8_intake.settings import IntakeSettings
from s8_shared import topics
from s8_shared.contracts import OUTBOUND_EVENTS, TICKET_EVENTS
from s8_shared.runtime import ServiceRuntime
from s8_testing.harness import TestStack


@dataclass
class Intake:
    runtime: ServiceRuntime
    service: IntakeServices
    http: httpx.AsyncClient
    stack: TestStack

    async def post(self, message: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post(f"/v1/inbound/{message['channel']}", json=message)
        assert response.status_code == 202, response.text
        result: dict[str, Any] = response.json()
        return result

    async def act(self, ticket_id: str, **action: Any) -> httpx.Response:
        return await self.http.post(f"/v1/tickets/{ticket_id}/actions", json=action)

    async def ticket(self, ticket_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/v1/tickets/{ticket_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def events(self) -> list[Any]:
        return await self.stack.read_all(topics.TICKETS, TICKET_EVENTS)

    async def outbound(self) -> list[Any]:
        return await self.stack.read_all(topics.OUTBOUND, OUTBOUND_EVENTS)


async def running_intake(stack: TestStack, **overrides: Any) -> AsyncIterator[Intake]:
    runtime, app = build(stack.settings(IntakeSettings, **overrides))
    await runtime.start()
    async with stack.client(app, "http://intake") as http:
        try:
            yield Intake(runtime, app.state.intake, http, stack)
        finally:
            await runtime.stop()
