"""Every ccxt call goes through here: global gate, error translation, bounded retries (OR5)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import ccxt
import structlog

from aegis.model.errors import RateLimited, TransientVenueError
from aegis.venues.ccxt.backoff import RateLimitGate, RetryPolicy, Sleep
from aegis.venues.ccxt.errors import translate_error

log = structlog.get_logger(__name__)


class GuardedCaller:
    """Run ccxt coroutines behind the venue's ``RateLimitGate`` with aegis errors only.

    ``headers`` returns the exchange's last response headers (for ``Retry-After``).
    """

    def __init__(
        self,
        venue: str,
        gate: RateLimitGate,
        policy: RetryPolicy,
        *,
        headers: Callable[[], Mapping[str, Any] | None],
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.venue = venue
        self.gate = gate
        self.policy = policy
        self._headers = headers
        self._sleep = sleep

    async def once(self, context: str, call: Callable[[], Awaitable[Any]]) -> Any:
        """Make one attempt; translate ccxt errors; a rate-limit answer closes the gate."""
        await self.gate.wait()
        try:
            return await call()
        except ccxt.BaseError as error:
            translated = translate_error(error, context=context, headers=self._headers())
            if isinstance(translated, RateLimited):
                self.gate.block(translated.retry_after_s)
            raise translated from error

    async def call(self, context: str, call: Callable[[], Awaitable[Any]]) -> Any:
        """Retry transient failures with back-off; raise the last one after the final attempt.

        Only for idempotent reads and cancels: order placement retries in ``submit`` itself,
        because it must look the order up before trying again (OR2).
        """
        attempt = 0
        while True:
            try:
                return await self.once(context, call)
            except TransientVenueError as error:
                attempt += 1
                if attempt >= self.policy.max_attempts:
                    raise
                await self.pause(context, attempt, error)

    async def pause(self, context: str, attempt: int, error: TransientVenueError) -> None:
        """Back off before retry ``attempt`` (the gate already covers a rate-limit pause)."""
        delay = 0.0 if isinstance(error, RateLimited) else self.policy.delay_s(attempt - 1)
        log.warning(
            "venue_call_retry",
            venue=self.venue,
            operation=context,
            attempt=attempt,
            delay_s=round(delay, 3),
            error=str(error),
        )
        if delay > 0:
            await self._sleep(delay)
