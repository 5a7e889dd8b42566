"""Test helpers: poll a condition with a deadline (never a bare sleep)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.005)


def user_sockets(server: object) -> int:
    """Open user-data sockets on the emulator."""
    hub = server.hub  # type: ignore[attr-defined]
    return sum(1 for c in hub.connections if c.listen_key is not None)
