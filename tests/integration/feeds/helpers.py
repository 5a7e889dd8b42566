"""Test helpers of the feed integration tests: a wall clock and a deadline-bound wait."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


def wall_clock_ms() -> int:
    """Return the event loop's clock in ms (the feeds' clock when not on replay time)."""
    return int(asyncio.get_running_loop().time() * 1000)


async def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.01)
