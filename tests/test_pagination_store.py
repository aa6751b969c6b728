"""Keyset pages on the real store: every document once, in order, with ties on the sort
field and in both directions."""

from datetime import UTC, datetime, timedelta

import pytest

from s8_shared.pagination import PageRequest, decode_cursor, find_page
from s8_testing.harness import TestStack

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("descending", [False, True])
async def test_pages_return_every_document_once_in_order_despite_ties(
    stack: TestStack, descending: bool
) -> None:
    col = stack.mongo[f"{stack.db_prefix()}pages"]["offers"]
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    docs = [{"_id": f"O-{n:02d}", "at": t0 + timedelta(minutes=n // 3), "status": "open"} for n in range(20)]  # fmt: skip
    await col.insert_many([*docs, {"_id": "X-1", "at": t0, "status": "closed"}])
    seen: list[str] = []
    page = PageRequest(limit=4)
    while True:
        found, more = await find_page(col, {"status": "open"}, "at", page, descending=descending)
        assert len(found) <= 4
        seen += [d["_id"] for d in found]
        if more is None:
            break
        page = PageRequest(4, decode_cursor(more))
    expected = sorted((d["at"], d["_id"]) for d in docs)
    if descending:
        expected.reverse()
    assert seen == [doc_id for _, doc_id in expected]
