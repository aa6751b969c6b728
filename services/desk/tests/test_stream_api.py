"""The live stream's two inputs are bounded: a Last-Event-ID that is not a seq this stream
could have sent, or an `after` beyond the store's integers, is a 4xx before anything is read."""

from __future__ import annotations

import pytest

from s8_desk.app import build
from s8_desk.settings import DeskSettings
from s8_testing.tokens import LocalIssuer


@pytest.mark.parametrize(
    ("headers", "params"),
    [
        ({b"Last-Event-ID": "²".encode("latin-1")}, {}),  # a digit to str.isdigit, not to int()
        ({b"Last-Event-ID": "١٢".encode()}, {}),
        ({b"Last-Event-ID": b"-1"}, {}),
        ({b"Last-Event-ID": b"9" * 19}, {}),  # above an 8-byte integer
        ({b"Last-Event-ID": b"9" * 21}, {}),
        ({}, {"after": str(2**63)}),
        ({}, {"after": "-1"}),
    ],
)
async def test_a_resume_point_that_is_not_a_seq_is_refused_at_once(
    headers: dict[bytes, bytes], params: dict[str, str]
) -> None:
    _, app = build(DeskSettings(mongo_uri="mongodb://127.0.0.1:1"))  # never reached
    async with LocalIssuer().client(app, "lan", "agent") as http:
        reply = await http.get("/v1/stream", headers=headers, params=params)
    assert reply.status_code in (400, 422), reply.text
