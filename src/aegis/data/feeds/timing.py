"""Back-off with seeded jitter, a shared request budget, and a timeout on an injected sleep."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable
from typing import Any, TypeVar

from aegis.data.feeds.protocols import NowMs, Sleep

T = TypeVar("T")


class Backoff:
    """Exponential back-off: ``min(max_s, initial_s * multiplier**attempt)`` less a jitter.

    The jitter takes a seeded random fraction (up to ``jitter``) off the delay so that many
    clients reconnecting together spread out, and a run stays reproducible.
    """

    __slots__ = ("_rng", "initial_s", "jitter", "max_s", "multiplier")

    def __init__(
        self,
        initial_s: float = 0.5,
        max_s: float = 30.0,
        multiplier: float = 2.0,
        jitter: float = 0.3,
        seed: int = 0,
    ) -> None:
        if not (math.isfinite(initial_s) and initial_s > 0):
            raise ValueError(f"backoff initial_s must be positive, got {initial_s!r}")
        if not (math.isfinite(max_s) and max_s >= initial_s):
            raise ValueError(f"backoff max_s must be >= initial_s {initial_s}, got {max_s!r}")
        if not multiplier >= 1:
            raise ValueError(f"backoff multiplier must be >= 1, got {multiplier!r}")
        if not 0 <= jitter < 1:
            raise ValueError(f"backoff jitter must be in [0, 1), got {jitter!r}")
        self.initial_s = initial_s
        self.max_s = max_s
        self.multiplier = multiplier
        self.jitter = jitter
        # Not for security: a reproducible spread of reconnect times.
        self._rng = random.Random(seed)  # noqa: S311

    def ceiling(self, attempt: int) -> float:
        """Return the delay before jitter for the ``attempt``-th retry (0-based)."""
        exponent = min(attempt, 64)  # the cap is reached long before; avoid float overflow
        return min(self.max_s, self.initial_s * self.multiplier**exponent)

    def delay(self, attempt: int) -> float:
        """Return the jittered delay in seconds, within ``[ceiling*(1-jitter), ceiling]``."""
        if attempt < 0:
            raise ValueError(f"backoff attempt must be >= 0, got {attempt}")
        return self.ceiling(attempt) * (1.0 - self.jitter * self._rng.random())


class RequestBudget:
    """A token bucket shared by every REST call of a feed: at most ``requests_per_s`` (EX2).

    ``pause(seconds)`` stops every caller (a 429 / 418 with ``Retry-After`` backs off globally).
    """

    __slots__ = (
        "_burst",
        "_lock",
        "_now_ms",
        "_paused_until_ms",
        "_sleep",
        "_stamp_ms",
        "_tokens",
        "requests_per_s",
    )

    def __init__(
        self, requests_per_s: float, *, now_ms: NowMs, sleep: Sleep, burst: int = 1
    ) -> None:
        if not (math.isfinite(requests_per_s) and requests_per_s > 0):
            raise ValueError(f"requests_per_s must be positive, got {requests_per_s!r}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst}")
        self.requests_per_s = requests_per_s
        self._burst = float(burst)
        self._tokens = float(burst)
        self._now_ms = now_ms
        self._sleep = sleep
        self._stamp_ms = now_ms()
        self._paused_until_ms = 0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """Let no request through for ``seconds`` from now."""
        until = self._now_ms() + math.ceil(max(seconds, 0.0) * 1000)
        self._paused_until_ms = max(self._paused_until_ms, until)

    async def acquire(self) -> None:
        """Wait until one request may be sent, then take its token."""
        # The lock serialises waiters, so they are served first come, first served.
        async with self._lock:
            while True:
                now = self._now_ms()
                if now < self._paused_until_ms:
                    await self._sleep((self._paused_until_ms - now) / 1000)
                    continue
                elapsed_s = max(0, now - self._stamp_ms) / 1000
                self._tokens = min(self._burst, self._tokens + elapsed_s * self.requests_per_s)
                self._stamp_ms = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                await self._sleep((1.0 - self._tokens) / self.requests_per_s)


async def with_timeout(awaitable: Awaitable[T], timeout_s: float, sleep: Sleep, name: str) -> T:
    """Await ``awaitable``, or cancel it and raise ``TimeoutError`` after ``timeout_s``.

    Unlike ``asyncio.wait_for`` the timer is the injected ``sleep``, so a virtual clock drives it.
    Raises ``asyncio.CancelledError`` when the caller or the awaited work is cancelled (a
    shutdown): only the timer running out is a timeout.

    The caller awaits the work directly and the timer cancels the work when it runs out: an
    answer reaches the caller one event-loop pass after the work ends (a candle's way to its
    order, issue 3 section 7), and the timer is only told to stop, not awaited, on that path.
    """
    work: asyncio.Future[T] = asyncio.ensure_future(awaitable)
    if isinstance(work, asyncio.Task):
        work.set_name(name)
    expired = False

    async def expire() -> None:
        nonlocal expired
        try:
            await sleep(timeout_s)
        except asyncio.CancelledError:
            raise  # stopped: the work answered or the caller is leaving
        except BaseException:
            work.cancel()  # the caller then raises this error (see _stop)
            raise
        expired = True
        work.cancel()

    timer = asyncio.create_task(expire(), name=f"{name}:timeout")
    try:
        result = await work
    except asyncio.CancelledError:
        # the caller cancelled (asyncio cancelled the work with it), the work was cancelled
        # from outside (a shutdown, a venue closing its futures), or the timer ran out
        await _stop(timer, work)
        if expired and not _is_cancelling():
            raise TimeoutError(f"{name} gave no answer within timeout_s={timeout_s}") from None
        raise
    except BaseException:
        await _stop(timer, work)
        raise
    timer.cancel()
    return result


def _is_cancelling() -> bool:
    """Return True when the current task itself was asked to cancel (not just its work)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def _stop(timer: asyncio.Task[None], work: asyncio.Future[Any]) -> None:
    """Never leave the watch or the timer running; wait until both have stopped."""
    pending = [task for task in (work, timer) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    if timer.done() and not timer.cancelled() and timer.exception() is not None:
        timer.result()  # an injected sleep that failed raises its own error
