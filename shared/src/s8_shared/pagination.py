"""Cursor pagination for every list endpoint: `?limit=` (at most MAX_PAGE) and `?cursor=`.

The body stays a JSON array; the next page is named by the `Link: <…>; rel="next"` header
(as GitHub's and Shopify's APIs do) and by `X-Next-Cursor`. Pages are keyset pages over a
sort field and `_id`: stable while documents are added, and each costs one indexed query,
however deep the page.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import HTTPException, Query, Request, Response
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from s8_shared.mongo import Document

MAX_PAGE = 200
DEFAULT_PAGE = 50


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_PAGE
    after: tuple[Any, Any] | None = None  # (sort value, _id) of the last item of the page before


def _encode(value: Any) -> Any:
    return {"dt": value.isoformat()} if isinstance(value, datetime) else value


def _decode(value: Any) -> Any:
    return datetime.fromisoformat(value["dt"]) if isinstance(value, dict) else value


def encode_cursor(sort_value: Any, doc_id: Any) -> str:
    raw = json.dumps([_encode(sort_value), doc_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_value, doc_id = json.loads(raw)
        return _decode(sort_value), doc_id
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise HTTPException(status_code=400, detail="cursor is not one this API gave") from exc


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Items per page.")] = DEFAULT_PAGE,
    cursor: Annotated[
        str | None,
        Query(max_length=512, description="From the `X-Next-Cursor` header of the page before."),
    ] = None,
) -> PageRequest:
    """The FastAPI dependency of every list endpoint."""
    return PageRequest(limit, decode_cursor(cursor) if cursor else None)


def _field(doc: Document, path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


async def find_page(
    col: AsyncCollection[Document],
    query: dict[str, Any],
    sort_field: str,
    page: PageRequest,
    *,
    descending: bool = False,
) -> tuple[list[Document], str | None]:
    """One page of `query` ordered by `sort_field` then `_id`, and the next page's cursor."""
    direction = DESCENDING if descending else ASCENDING
    order = [(sort_field, direction), ("_id", direction)] if sort_field != "_id" else [("_id", direction)]  # fmt: skip
    if page.after is not None:
        value, doc_id = page.after
        beyond = "$lt" if descending else "$gt"
        after: dict[str, Any] = {"_id": {beyond: doc_id}}
        if sort_field != "_id":
            after = {"$or": [{sort_field: {beyond: value}}, {sort_field: value, **after}]}
        query = {"$and": [query, after]} if query else after
    cursor = col.find(query).sort(order)
    docs = [d async for d in cursor.limit(page.limit + 1)]
    if len(docs) <= page.limit:
        return docs, None
    last = docs[page.limit - 1]
    return docs[: page.limit], encode_cursor(_field(last, sort_field), last["_id"])


def page_of_list(items: list[Any], key: Any, page: PageRequest) -> tuple[list[Any], str | None]:
    """A page of a list already in memory, ordered by `key(item)` (unique)."""
    ordered = sorted(items, key=key)
    if page.after is not None:
        ordered = [i for i in ordered if key(i) > page.after[1]]
    if len(ordered) <= page.limit:
        return ordered, None
    last = ordered[page.limit - 1]
    return ordered[: page.limit], encode_cursor(None, key(last))


def link_next(request: Request, response: Response, next_cursor: str | None) -> None:
    """Names the next page in the response's headers (none on the last page)."""
    if next_cursor is None:
        return
    url = request.url.include_query_params(cursor=next_cursor)
    response.headers["Link"] = f'<{url}>; rel="next"'
    response.headers["X-Next-Cursor"] = next_cursor
