"""Agents' live streams read as a browser reads them (`GET /v1/stream` on the desk, with the
agent's token, resumed with `Last-Event-ID` after a drop): `make run` keeps one open per demo
agent, and `make bench-desk` times every notice read."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
from bench_desk_report import Readings, SseParser
from procs import TOKENS

from s8_testing.tokens import ProviderTokens


async def follow(
    client: httpx.AsyncClient, agent: str, readings: Readings, tokens: ProviderTokens = TOKENS
) -> None:
    """One agent's stream until cancelled; reconnects as a browser does, with Last-Event-ID.
    `tokens`: the realm the desk trusts (the benchmarks' test realm by default)."""
    parser = SseParser()
    while True:
        headers = await tokens.headers_for(agent)
        if parser.last_id is not None:
            headers["Last-Event-ID"] = parser.last_id
        try:
            async with client.stream("GET", "/v1/stream", headers=headers) as reply:
                reply.raise_for_status()
                async for line in reply.aiter_lines():
                    if (event := parser.line(line)) is not None:
                        readings.add(agent, event, datetime.now(UTC))
        except httpx.HTTPError:
            pass  # closed (too far behind) or refused: resume, as EventSource does
        readings.reconnects += 1
        await asyncio.sleep(0.5)
