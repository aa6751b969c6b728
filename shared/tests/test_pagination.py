from datetime import UTC, datetime

import pytest
from fastapi import HTTPException

from s8_shared.pagination import PageRequest, decode_cursor, encode_cursor, page_of_list


def test_a_cursor_carries_a_sort_value_and_an_id_back_unchanged() -> None:
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert decode_cursor(encode_cursor(when, "O-1")) == (when, "O-1")
    assert decode_cursor(encode_cursor("b", 7)) == ("b", 7)


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", encode_cursor("a", "b")[:-3] + "!!"])
def test_a_cursor_this_api_did_not_give_is_a_400(cursor: str) -> None:
    with pytest.raises(HTTPException) as info:
        decode_cursor(cursor)
    assert info.value.status_code == 400


def test_a_list_in_memory_is_paged_in_key_order_each_item_once() -> None:
    items = [f"a{n}" for n in (5, 1, 4, 2, 3)]
    first, more = page_of_list(items, lambda i: i, PageRequest(limit=2))
    assert first == ["a1", "a2"]
    assert more is not None
    second, more = page_of_list(items, lambda i: i, PageRequest(2, decode_cursor(more)))
    assert second == ["a3", "a4"]
    assert more is not None
    last, more = page_of_list(items, lambda i: i, PageRequest(2, decode_cursor(more)))
    assert (last, more) == (["a5"], None)
