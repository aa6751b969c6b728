"""The outbox inside a document on the real store: emptied in one command when it holds just
what was published, and never losing an event added meanwhile."""

import pytest

from s8_shared.outbox import Outbox
from s8_testing.harness import TestStack

pytestmark = pytest.mark.integration


def item(event_id: str) -> dict[str, str]:
    return {"event_id": event_id, "topic": "support.tickets.v1", "key": "T-1", "body": "{}"}


async def test_published_items_leave_and_an_item_added_meanwhile_stays(stack: TestStack) -> None:
    async with stack.store("outbox") as store:
        col = store.collection("docs")
        outbox = Outbox(col)
        await col.insert_many(
            [
                {"_id": "just", "outbox": [item("a"), item("b")], "has_outbox": True},
                {"_id": "more", "outbox": [item("a"), item("b"), item("c")], "has_outbox": True},
                {"_id": "other", "outbox": [item("a"), item("x")], "has_outbox": True},
            ]
        )
        await outbox.remove("just", ["b", "a", "a"])
        await outbox.remove_all({"more": ["b", "a"], "other": ["a"], "gone": ["z"]})
        assert await outbox.items("just") == []
        assert [i.event_id for i in await outbox.items("more")] == ["c"]
        assert [i.event_id for i in await outbox.items("other")] == ["x"]
        assert sorted(await outbox.pending()) == ["more", "other"]
