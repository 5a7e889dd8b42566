"""Clocks of the runtime: the wall clock, and the history clock of a replay at a given speed."""

from __future__ import annotations

import time


def wall_clock_ms() -> int:
    """Return the wall clock in UTC milliseconds (live trading)."""
    return time.time_ns() // 1_000_000


class HistoryClock:
    """History time of a replay running at ``speed`` history seconds per wall second.

    Anchored at ``history_ms`` (the replay's time when it was read) and the monotonic wall time
    of that reading, so candle freshness is judged in the replay's time, not in today's.
    """

    def __init__(self, history_ms: int, speed: float) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self.speed = speed
        self._anchor_ms = history_ms
        self._anchor_monotonic = time.monotonic()

    def now_ms(self) -> int:
        """Return the replay's current time in UTC milliseconds."""
        elapsed_s = time.monotonic() - self._anchor_monotonic
        return self._anchor_ms + int(elapsed_s * self.speed * 1000)
