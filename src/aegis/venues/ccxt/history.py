"""Follow every page of order and trade history (RC1: all records, never a fixed window)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from aegis.model.errors import VenueError

# (since_ms, limit, params) -> one page of ccxt records
PageFetch = Callable[[int | None, int, dict[str, Any]], Awaitable[list[dict[str, Any]]]]

# A venue that keeps answering full pages of new records this long is broken, not busy.
MAX_PAGES: Final = 10_000


def _numeric_id(record: dict[str, Any], context: str) -> int:
    raw = record.get("id")
    try:
        return int(str(raw))
    except ValueError as error:
        raise VenueError(
            f"{context}: record id {raw!r} is not numeric for id pagination"
        ) from error


async def pages_by_id(
    fetch: PageFetch, *, cursor_param: str, limit: int, context: str
) -> list[dict[str, Any]]:
    """Read history forward by record id from the first one (Binance ``fromId`` / ``orderId``).

    Each page asks for ids >= cursor; the next cursor is the largest id seen plus one; a page
    shorter than ``limit`` is the last.
    """
    records: list[dict[str, Any]] = []
    cursor = 0
    for _ in range(MAX_PAGES):
        page = await fetch(None, limit, {cursor_param: cursor})
        fresh = [r for r in page if _numeric_id(r, context) >= cursor]
        records.extend(fresh)
        if len(page) < limit or not fresh:
            return records
        cursor = max(_numeric_id(r, context) for r in fresh) + 1
    raise VenueError(f"{context}: more than {MAX_PAGES} pages of history")


async def pages_by_time(
    fetch: PageFetch, *, since_ms: int, limit: int, context: str
) -> list[dict[str, Any]]:
    """Read history forward by timestamp from ``since_ms``, de-duplicating by record id.

    Records sharing the boundary timestamp appear on two pages; the id set drops the repeat.
    """
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    cursor = since_ms
    for _ in range(MAX_PAGES):
        page = await fetch(cursor, limit, {})
        fresh = [r for r in page if str(r.get("id")) not in seen]
        for record in fresh:
            seen.add(str(record.get("id")))
        records.extend(fresh)
        if len(page) < limit or not fresh:
            return records
        cursor = max(int(r.get("timestamp") or cursor) for r in fresh)
    raise VenueError(f"{context}: more than {MAX_PAGES} pages of history")
