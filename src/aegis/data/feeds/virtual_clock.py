"""A virtual clock for deterministic async runs: ``now_ms`` and ``sleep`` that only move on demand.

Tests (and replays) pass ``clock.now_ms`` and ``clock.sleep`` to a feed instead of the wall clock,
then ``advance`` time: sleepers wake in time order, and no test waits for real time to pass.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable

# Enough event-loop turns for chains of in-memory awaits (task -> wait -> callback) to settle.
_SETTLE_TURNS = 64


class VirtualClock:
    """Virtual UTC time in milliseconds with an asyncio-compatible ``sleep``."""

    def __init__(self, start_ms: int = 0) -> None:
        self._now_ms = start_ms
        self._sleepers: list[tuple[int, int, asyncio.Future[None]]] = []
        self._sequence = itertools.count()

    def now_ms(self) -> int:
        """Return the virtual time in UTC milliseconds."""
        return self._now_ms

    async def sleep(self, seconds: float) -> None:
        """Wait until the virtual time has moved ``seconds`` on (at least one loop turn)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake_ms = self._now_ms + max(1, round(seconds * 1000))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (wake_ms, next(self._sequence), future))
        await future

    async def settle(self) -> None:
        """Let every runnable task run until it blocks again."""
        for _ in range(_SETTLE_TURNS):
            await asyncio.sleep(0)

    def next_wake_ms(self) -> int | None:
        """Return when the earliest live sleeper wakes, or None when nobody sleeps."""
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)  # cancelled sleepers
        return self._sleepers[0][0] if self._sleepers else None

    async def advance(self, seconds: float) -> None:
        """Move time ``seconds`` on, waking each sleeper at its own time, in order."""
        target = self._now_ms + round(seconds * 1000)
        await self.settle()
        while True:
            wake = self.next_wake_ms()
            if wake is None or wake > target:
                break
            self._now_ms = max(self._now_ms, wake)
            while self._sleepers and self._sleepers[0][0] <= self._now_ms:
                _, _, future = heapq.heappop(self._sleepers)
                if not future.done():
                    future.set_result(None)
            await self.settle()
        self._now_ms = max(self._now_ms, target)
        await self.settle()

    async def run_until(
        self, condition: Callable[[], bool], *, timeout_s: float, step_s: float = 1.0
    ) -> None:
        """Advance in ``step_s`` steps until ``condition()`` holds.

        Raises:
            TimeoutError: the condition still fails after ``timeout_s`` of virtual time.
        """
        deadline = self._now_ms + round(timeout_s * 1000)
        await self.settle()
        while not condition():
            if self._now_ms >= deadline:
                raise TimeoutError(f"condition not met within timeout_s={timeout_s} virtual")
            await self.advance(min(step_s, (deadline - self._now_ms) / 1000))
