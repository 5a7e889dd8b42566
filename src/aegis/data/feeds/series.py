"""One symbol's closed-candle series: continuity, back-fill, outliers and staleness (EX4, EX6).

Every candle of a symbol, from the websocket, a REST poll or a back-fill, passes through
``SymbolSeries.ingest`` under one lock, so the consumer sees each symbol's candles strictly in
open-time order and without holes.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog

from aegis.data.feeds.health import FeedCounters, FeedState, StaleReason, SymbolHealth
from aegis.data.feeds.protocols import NowMs, Sleep
from aegis.data.outliers import OutlierFilter
from aegis.model.candle import Candle
from aegis.model.errors import RateLimited, TransientVenueError

log = structlog.get_logger(__name__)

#: Receives each accepted candle; may be a plain function or a coroutine function.
CandleCallback = Callable[[str, Candle], Awaitable[None] | None]
#: Receives the new health of a symbol whenever its state, stale reason or epoch changes.
HealthCallback = Callable[[SymbolHealth], Awaitable[None] | None]
#: ``fetch(since_ms, limit)`` -> REST candles; rate limiting is the caller's business.
RangeFetcher = Callable[[int, int], Awaitable[list[Candle]]]


@dataclass(frozen=True, slots=True)
class GapPolicy:
    """How hard to try to fill a gap, and when to give up on it.

    ``backfill_attempts`` REST attempts (``retry_delay_s`` apart) are made when a gap is found.
    While the symbol is stale with a gap, each later candle triggers one more attempt; after
    ``resume_after_candles`` contiguous candles past the hole the series restarts (new epoch).
    """

    backfill_attempts: int = 3
    retry_delay_s: float = 1.0
    resume_after_candles: int = 5
    page_limit: int = 500

    def __post_init__(self) -> None:
        if self.backfill_attempts < 1:
            raise ValueError(f"backfill_attempts must be >= 1, got {self.backfill_attempts}")
        if self.resume_after_candles < 1:
            raise ValueError(f"resume_after_candles must be >= 1, got {self.resume_after_candles}")
        if self.page_limit < 1:
            raise ValueError(f"page_limit must be >= 1, got {self.page_limit}")
        if self.retry_delay_s < 0:
            raise ValueError(f"retry_delay_s must be >= 0, got {self.retry_delay_s}")


async def call_back(function: Callable[..., Awaitable[None] | None], *args: object) -> None:
    """Call a sync or async callback and await it if it returned an awaitable."""
    result = function(*args)
    if inspect.isawaitable(result):
        await result


class SymbolSeries:
    """Continuity state of one symbol; see the module docstring."""

    def __init__(
        self,
        symbol: str,
        timeframe_ms: int,
        *,
        fetch: RangeFetcher,
        on_candle: CandleCallback,
        on_health: HealthCallback,
        now_ms: NowMs,
        sleep: Sleep,
        outlier_filter: OutlierFilter,
        counters: FeedCounters,
        policy: GapPolicy,
    ) -> None:
        self.symbol = symbol
        self.timeframe_ms = timeframe_ms
        self._fetch = fetch
        self._on_candle = on_candle
        self._on_health = on_health
        self._now_ms = now_ms
        self._sleep = sleep
        self._filter = outlier_filter
        self._counters = counters
        self._policy = policy
        self._last_close: float | None = None
        self._pending: list[Candle] = []  # held back behind an unfilled gap
        self.health = SymbolHealth(symbol, timeframe_ms, FeedState.WAITING)

    @property
    def last_ms(self) -> int | None:
        """Open time of the last candle handed to the consumer."""
        return self.health.last_candle_ms

    @property
    def held_count(self) -> int:
        """Return how many candles wait behind an unfilled gap."""
        return len(self._pending)

    def is_closed(self, candle: Candle) -> bool:
        """Return True when ``candle`` has closed by now (REST also returns the open one)."""
        return candle.ts_ms + self.timeframe_ms <= self._now_ms()

    async def ingest(self, candles: Sequence[Candle]) -> None:
        """Take closed candles in any order; deliver the new ones in order, filling holes."""
        for candle in sorted(candles, key=lambda c: c.ts_ms):
            if candle.ts_ms % self.timeframe_ms != 0:
                self._counters.off_grid[self.symbol] += 1
                log.warning("candle_off_grid", symbol=self.symbol, ts_ms=candle.ts_ms)
                continue
            await self._ingest_one(candle)

    async def mark_no_data(self) -> None:
        """Mark the symbol stale because no candle arrived for too long (EX6)."""
        if self.health.stale_reason is None:
            await self._go_stale(StaleReason.NO_DATA)

    async def _ingest_one(self, candle: Candle) -> None:
        if self._pending:
            await self._extend_pending(candle)
        else:
            await self._accept(candle)

    async def _accept(self, candle: Candle) -> None:
        last = self.last_ms
        if last is not None and candle.ts_ms <= last:
            self._counters.duplicates[self.symbol] += 1
            return
        if last is not None and candle.ts_ms > last + self.timeframe_ms:
            await self._fill(last + self.timeframe_ms, candle.ts_ms, self._policy.backfill_attempts)
            if self.last_ms != candle.ts_ms - self.timeframe_ms:
                self._pending = [candle]
                await self._go_stale(StaleReason.GAP)
                return
        await self._deliver(candle, backfill=False)

    async def _extend_pending(self, candle: Candle) -> None:
        tail = self._pending[-1].ts_ms
        if candle.ts_ms <= tail:
            self._counters.duplicates[self.symbol] += 1
            return
        if candle.ts_ms == tail + self.timeframe_ms:
            self._pending.append(candle)
        else:
            # A second hole inside the held-back run: the run restarts; the retry below asks
            # REST for everything from the first missing candle, so nothing is lost for good.
            self._pending = [candle]
        last = self.last_ms
        if last is None:  # cannot happen: a gap is always found after a delivered candle
            raise RuntimeError(f"held candles for {self.symbol} without a candle before them")
        first_held = self._pending[0].ts_ms
        fill = await self._fetch_contiguous(last + self.timeframe_ms, first_held)
        closed = bool(fill) and fill[-1].ts_ms == first_held - self.timeframe_ms
        if closed and self._passes_filter([*fill, *self._pending]):
            # The hole is closed: only now does the consumer hear from this symbol again.
            self._counters.backfilled_candles[self.symbol] += len(fill)
            await self._replay([*fill, *self._pending])
            return
        if len(self._pending) >= self._policy.resume_after_candles:
            await self._restart_series()

    def _passes_filter(self, run: Sequence[Candle]) -> bool:
        """Dry-run the outlier filter: a rejected candle would reopen the hole at once."""
        probe = OutlierFilter(self._filter.threshold)
        previous = self._last_close
        for candle in run:
            if not probe.accept(previous, candle, symbol=self.symbol):
                return False
            previous = candle.close
        return True

    async def _replay(self, run: list[Candle]) -> None:
        """Push held candles through the normal path: an outlier among them is a hole again."""
        self._pending = []
        for item in run:
            await self._ingest_one(item)

    async def _restart_series(self) -> None:
        held, self._pending = self._pending, []
        self._counters.series_resets[self.symbol] += 1
        log.warning(
            "candle_series_restarted",
            symbol=self.symbol,
            gap_from_ms=self.health.gap_from_ms,
            gap_to_ms=held[0].ts_ms,
            epoch=self.health.epoch + 1,
        )
        self._last_close = None  # the outlier filter re-anchors on the new series
        self.health = dataclasses.replace(
            self.health, last_candle_ms=None, epoch=self.health.epoch + 1
        )
        await self._replay(held)

    async def _fill(self, start_ms: int, end_ms: int, attempts: int) -> None:
        """Deliver REST candles in ``[start_ms, end_ms)`` until the hole closes or we give up."""
        for attempt in range(attempts):
            if attempt:
                await self._sleep(self._policy.retry_delay_s)
            start = start_ms if self.last_ms is None else self.last_ms + self.timeframe_ms
            for candle in await self._fetch_contiguous(start, end_ms):
                if not await self._deliver(candle, backfill=True):
                    break  # an outlier is a hole as well
            if self.last_ms == end_ms - self.timeframe_ms:
                return

    async def _fetch_contiguous(self, start_ms: int, end_ms: int) -> list[Candle]:
        """Return the REST candles from ``start_ms`` on, up to the first one REST lacks."""
        run: list[Candle] = []
        expected = start_ms
        for candle in await self._fetch_range(start_ms, end_ms):
            if candle.ts_ms < expected:
                continue  # a duplicate row
            if candle.ts_ms != expected:
                break
            run.append(candle)
            expected += self.timeframe_ms
        return run

    async def _fetch_range(self, start_ms: int, end_ms: int) -> list[Candle]:
        found: list[Candle] = []
        cursor = start_ms
        while cursor < end_ms:
            limit = min(self._policy.page_limit, (end_ms - cursor) // self.timeframe_ms)
            self._counters.backfill_requests[self.symbol] += 1
            try:
                page = await self._fetch(cursor, limit)
            except TransientVenueError as error:
                # RateLimited is a TransientVenueError; the fetcher already paused the budget.
                log.warning(
                    "backfill_failed",
                    symbol=self.symbol,
                    since_ms=cursor,
                    error=str(error),
                    rate_limited=isinstance(error, RateLimited),
                )
                break
            page = sorted(
                (c for c in page if cursor <= c.ts_ms < end_ms and self.is_closed(c)),
                key=lambda c: c.ts_ms,
            )
            if not page:
                break
            found.extend(page)
            cursor = page[-1].ts_ms + self.timeframe_ms
        return found

    async def _deliver(self, candle: Candle, *, backfill: bool) -> bool:
        if not self._filter.accept(self._last_close, candle, symbol=self.symbol):
            self._counters.outlier_rejections[self.symbol] += 1
            return False
        self._last_close = candle.close
        self.health = dataclasses.replace(self.health, last_candle_ms=candle.ts_ms)
        if self.health.state is not FeedState.HEALTHY and not self._pending:
            await self._set_health(
                dataclasses.replace(
                    self.health,
                    state=FeedState.HEALTHY,
                    stale_reason=None,
                    stale_since_ms=None,
                    gap_from_ms=None,
                    gap_to_ms=None,
                )
            )
        if backfill:
            self._counters.backfilled_candles[self.symbol] += 1
        self._counters.delivered[self.symbol] += 1
        await call_back(self._on_candle, self.symbol, candle)
        return True

    async def _go_stale(self, reason: StaleReason) -> None:
        gap_from = gap_to = None
        if reason is StaleReason.GAP and self.last_ms is not None:
            gap_from, gap_to = self.last_ms + self.timeframe_ms, self._pending[0].ts_ms
        self._counters.stale_events[self.symbol] += 1
        log.warning(
            "symbol_stale",
            symbol=self.symbol,
            reason=str(reason),
            last_candle_ms=self.last_ms,
            gap_from_ms=gap_from,
            gap_to_ms=gap_to,
        )
        await self._set_health(
            dataclasses.replace(
                self.health,
                state=FeedState.STALE,
                stale_reason=reason,
                stale_since_ms=self._now_ms(),
                gap_from_ms=gap_from,
                gap_to_ms=gap_to,
            )
        )

    async def _set_health(self, health: SymbolHealth) -> None:
        self.health = health
        await call_back(self._on_health, health)
