"""Global rate-limit gate and bounded exponential back-off with jitter (OR5).

Both take their clock and sleep as arguments so tests drive them with a fake clock.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

import structlog

from aegis.model.errors import ConfigError

log = structlog.get_logger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_PAUSE_S: Final = 1.0


class RateLimitGate:
    """One per venue connection: a 429 / 418 seen by any caller pauses every caller.

    ``block(retry_after_s)`` moves the reopening time forward (never back); ``wait()`` returns
    at once while the gate is open and otherwise sleeps until it reopens, re-checking because
    another caller may have extended the pause meanwhile.
    """

    def __init__(
        self,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        default_pause_s: float = DEFAULT_PAUSE_S,
        max_pause_s: float = 300.0,
    ) -> None:
        if not default_pause_s > 0 or not max_pause_s >= default_pause_s:
            raise ConfigError(
                f"default_pause_s {default_pause_s} must be > 0 and <= max_pause_s {max_pause_s}"
            )
        self._clock = clock
        self._sleep = sleep
        self._default_pause_s = default_pause_s
        self._max_pause_s = max_pause_s
        self._open_at = float("-inf")
        self.blocks = 0

    @property
    def is_open(self) -> bool:
        """Return True when callers may proceed now."""
        return self._clock() >= self._open_at

    @property
    def open_at(self) -> float:
        """Return the clock time at which the gate reopens (-inf when never blocked)."""
        return self._open_at

    def block(self, retry_after_s: float | None) -> None:
        """Pause every caller for ``retry_after_s`` (the venue's Retry-After) or the default."""
        pause = self._default_pause_s if retry_after_s is None else retry_after_s
        pause = min(max(pause, 0.0), self._max_pause_s)
        reopen = self._clock() + pause
        if reopen > self._open_at:
            self._open_at = reopen
        self.blocks += 1
        log.warning("venue_rate_limited", pause_s=pause, blocks=self.blocks)

    async def wait(self) -> None:
        """Return when the gate is open; sleep (cancellable) while it is closed."""
        while True:
            remaining = self._open_at - self._clock()
            if remaining <= 0:
                return
            await self._sleep(remaining)


@dataclass(slots=True)
class RetryPolicy:
    """Bounded exponential back-off with jitter for transient venue errors.

    Attempt ``n`` (0-based) waits ``min(max_delay_s, base_delay_s * 2**n)`` scaled by a factor
    drawn uniformly from ``[1 - jitter, 1]`` (seeded, so a run is reproducible).
    """

    max_attempts: int = 4
    base_delay_s: float = 0.25
    max_delay_s: float = 8.0
    jitter: float = 0.5
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(f"max_attempts {self.max_attempts} must be >= 1")
        if not self.base_delay_s >= 0 or not self.max_delay_s >= self.base_delay_s:
            raise ConfigError(
                f"base_delay_s {self.base_delay_s} must be >= 0 and <= max_delay_s "
                f"{self.max_delay_s}"
            )
        if not 0.0 <= self.jitter <= 1.0:
            raise ConfigError(f"jitter {self.jitter} must be within 0..1")
        self._rng = random.Random(self.seed)  # noqa: S311 - jitter, not cryptography

    def delay_s(self, attempt: int) -> float:
        """Return the pause before retry number ``attempt + 1``."""
        ceiling = min(self.max_delay_s, self.base_delay_s * (2**attempt))
        return float(ceiling * (1.0 - self.jitter * self._rng.random()))
