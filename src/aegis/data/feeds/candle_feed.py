"""Live candles for many symbols: websocket with reconnect, REST polling while it is down (EX2).

Each symbol has its own websocket watch task (``candle-ws:<symbol>``); one poll task
(``candle-poll``) serves, round robin within a shared request budget, every symbol whose socket
is down; one watchdog (``candle-staleness``) marks symbols that stopped receiving candles.
Every candle then goes through the symbol's ``SymbolSeries`` (continuity, back-fill, outliers).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence

import structlog

from aegis.data.feeds._polling import (
    SOCKET_ERRORS,
    budget_of,
    checked_symbols,
    next_in_rotation,
    pause_if_rate_limited,
    poll_forever,
    wait_to_reconnect,
)
from aegis.data.feeds.health import FeedCounters, SymbolHealth
from aegis.data.feeds.protocols import CandleSource, NowMs, Sleep
from aegis.data.feeds.series import (
    CandleCallback,
    GapPolicy,
    HealthCallback,
    SymbolSeries,
    call_back,
)
from aegis.data.feeds.timing import Backoff, RequestBudget, with_timeout
from aegis.data.outliers import OutlierFilter
from aegis.data.timeframes import parse_timeframe
from aegis.model.candle import Candle
from aegis.model.errors import StaleDataError, TransientVenueError

log = structlog.get_logger(__name__)


def _ignore_health(_health: SymbolHealth) -> None:
    return None


class CandleFeed:
    """Closed candles of ``symbols`` handed to ``on_candle`` in order, without holes (EX2, EX4).

    Args:
        source: websocket + REST candles (``CcxtVenue``, ``ReplayCandleSource``...).
        symbols: unified symbols to follow.
        timeframe: candle timeframe, e.g. ``"1m"``.
        clock: returns now in UTC ms; ``sleep``: waits seconds (both injectable for tests).
        on_candle: called with ``(symbol, candle)`` for every accepted candle.
        on_health: called with the new ``SymbolHealth`` whenever a symbol changes state.
        backoff: reconnect delays of the websocket per symbol.
        requests_per_s: REST budget shared by polls and back-fills.
        request_budget: a ready budget instead (shared by several feeds of one venue, or on a
            wall clock when ``clock`` is a replay's history clock); overrides requests_per_s.
        poll_interval_s: how often the poller looks for due symbols when idle.
        silence_timeout_s: a socket without a message for this long counts as dropped
            (default: two timeframes plus 5 s).
        stale_after_timeframes: a symbol without a new closed candle for this many timeframes
            is stale (``StaleReason.NO_DATA``).
        gap_policy: back-fill attempts and when to give up on a hole.
        outlier_filter: spike filter (EX5); a rejected candle is treated as missing.
    """

    def __init__(
        self,
        source: CandleSource,
        symbols: Sequence[str],
        timeframe: str,
        *,
        clock: NowMs,
        on_candle: CandleCallback,
        on_health: HealthCallback = _ignore_health,
        sleep: Sleep = asyncio.sleep,
        backoff: Backoff | None = None,
        requests_per_s: float = 5.0,
        request_budget: RequestBudget | None = None,
        poll_interval_s: float = 1.0,
        silence_timeout_s: float | None = None,
        stale_after_timeframes: float = 3.0,
        gap_policy: GapPolicy | None = None,
        outlier_filter: OutlierFilter | None = None,
    ) -> None:
        self.symbols = checked_symbols("CandleFeed", symbols, poll_interval_s)
        if not stale_after_timeframes > 0:
            raise ValueError(
                f"stale_after_timeframes must be positive, got {stale_after_timeframes!r}"
            )
        self.timeframe = timeframe
        self.timeframe_ms = parse_timeframe(timeframe)
        self.counters = FeedCounters()
        self._source = source
        self._now_ms = clock
        self._sleep = sleep
        self._on_health = on_health
        self._backoff = backoff if backoff is not None else Backoff()
        self.budget = budget_of(request_budget, requests_per_s, clock, sleep)
        self._poll_interval_s = poll_interval_s
        self._silence_timeout_s = (
            silence_timeout_s
            if silence_timeout_s is not None
            else 2 * self.timeframe_ms / 1000 + 5.0
        )
        self._stale_after_ms = int(stale_after_timeframes * self.timeframe_ms)
        self._socket_up: dict[str, bool] = dict.fromkeys(self.symbols, False)
        self._next_poll_ms: dict[str, int] = dict.fromkeys(self.symbols, 0)
        self._rotation: deque[str] = deque(self.symbols)
        self._locks = {symbol: asyncio.Lock() for symbol in self.symbols}
        self._started_ms: int | None = None
        # Open unless a warm-up holds it (hold_streamed): streamed candles wait behind it.
        self._streamed_gate = asyncio.Event()
        self._streamed_gate.set()
        policy = gap_policy if gap_policy is not None else GapPolicy()
        shared_filter = outlier_filter if outlier_filter is not None else OutlierFilter()
        self._series = {
            symbol: SymbolSeries(
                symbol,
                self.timeframe_ms,
                fetch=self._fetcher(symbol),
                on_candle=on_candle,
                on_health=self._health_changed,
                now_ms=clock,
                sleep=sleep,
                outlier_filter=shared_filter,
                counters=self.counters,
                policy=policy,
            )
            for symbol in self.symbols
        }

    # -- public state ------------------------------------------------------------------------

    def health(self, symbol: str) -> SymbolHealth:
        """Return the current health of ``symbol``."""
        return self._get_series(symbol).health

    def is_stale(self, symbol: str) -> bool:
        """Return True when no strategy may decide on ``symbol`` (stale or no data yet)."""
        return self.health(symbol).is_stale

    def require_fresh(self, symbol: str) -> None:
        """Raise ``StaleDataError`` naming the symbol and the reason when it is stale."""
        health = self.health(symbol)
        if health.is_stale:
            raise StaleDataError(
                f"symbol {symbol} is {health.state} (reason {health.stale_reason}, "
                f"last candle {health.last_candle_ms})"
            )

    def is_socket_up(self, symbol: str) -> bool:
        """Return True while the websocket of ``symbol`` is delivering."""
        self._get_series(symbol)
        return self._socket_up[symbol]

    def held_count(self, symbol: str) -> int:
        """Return how many candles of ``symbol`` wait behind an unfilled gap (not delivered)."""
        return self._get_series(symbol).held_count

    def snapshot(self) -> Mapping[str, SymbolHealth]:
        """Return every symbol's health (for ``/ready`` and metrics)."""
        return {symbol: series.health for symbol, series in self._series.items()}

    # -- running -----------------------------------------------------------------------------

    def hold_streamed(self) -> None:
        """Subscribe now, deliver later: streamed candles wait until :meth:`release_streamed`.

        For the warm-up: started before it, the feed's websocket subscriptions exist while the
        REST history is read, so a candle that closes in between arrives on the socket and
        follows the history. Started after it, such a candle reached no subscription and was
        a gap for every symbol, each filled over the shared REST budget one request at a time
        (at 200 symbols, ~40 s: the last symbols missed their candles meanwhile). Polling and
        the staleness watch wait for the release too.
        """
        self._streamed_gate.clear()

    def release_streamed(self) -> None:
        """Deliver the candles held since :meth:`hold_streamed`, and every later one."""
        self._streamed_gate.set()

    async def run(self) -> None:
        """Run every task until cancelled; a task that fails with a bug stops the feed."""
        self._started_ms = self._now_ms()
        async with asyncio.TaskGroup() as group:
            for symbol in self.symbols:
                group.create_task(self._watch(symbol), name=f"candle-ws:{symbol}")
            group.create_task(self._when_released(self._poll_loop), name="candle-poll")
            group.create_task(self._when_released(self._staleness_loop), name="candle-staleness")

    async def _when_released(self, loop: Callable[[], Awaitable[None]]) -> None:
        if not self._streamed_gate.is_set():
            await self._streamed_gate.wait()
            self._started_ms = self._now_ms()  # "no data yet" counts from the release
        await loop()

    async def ingest(self, symbol: str, candles: Sequence[Candle]) -> None:
        """Feed candles of ``symbol`` from outside (REST, tests); an open one is left out."""
        series = self._get_series(symbol)
        async with self._locks[symbol]:
            await series.ingest([c for c in candles if series.is_closed(c)])

    async def _ingest_streamed(self, symbol: str, candles: Sequence[Candle]) -> None:
        # The socket's candles are closed on the venue's word (Binance's kline flag, or a newer
        # candle started: CandleSource.watch_candles). Judging them again by the local clock
        # dropped each one that arrived before that clock reached its close (a local clock
        # behind the venue's, a replay clock anchored while the replay lagged): a gap per
        # candle, filled from REST a candle later (issue 3 section 7).
        await self._streamed_gate.wait()
        series = self._get_series(symbol)
        async with self._locks[symbol]:
            await series.ingest(candles)

    async def _watch(self, symbol: str) -> None:
        attempt = 0
        while True:
            try:
                candles = await with_timeout(
                    self._source.watch_candles(symbol, self.timeframe),
                    self._silence_timeout_s,
                    self._sleep,
                    name=f"candle-ws-watch:{symbol}",
                )
            except SOCKET_ERRORS as error:
                # Polling takes over (EX2) until a message comes through again.
                self._socket_up[symbol] = False
                self.counters.reconnects[symbol] += 1
                await wait_to_reconnect(
                    self._backoff,
                    self._sleep,
                    attempt,
                    log=log,
                    event="candle_socket_down",
                    symbol=symbol,
                    error=error,
                )
                attempt += 1
                continue
            if not self._socket_up[symbol]:
                log.info("candle_socket_up", symbol=symbol, after_attempts=attempt)
            self._socket_up[symbol] = True
            attempt = 0
            await self._ingest_streamed(symbol, candles)

    async def _poll_loop(self) -> None:
        await poll_forever(self._next_due_symbol, self._poll, self._sleep, self._poll_interval_s)

    def _next_due_symbol(self) -> str | None:
        """Return the next symbol (round robin) whose socket is down and that has a new candle."""
        now = self._now_ms()

        def is_due(symbol: str) -> bool:
            if self._socket_up[symbol] or now < self._next_poll_ms[symbol]:
                return False
            last = self._series[symbol].last_ms
            # A poll is useful only once a candle newer than the last one has closed.
            return last is None or last + 2 * self.timeframe_ms <= now

        return next_in_rotation(self._rotation, is_due)

    async def _poll(self, symbol: str) -> None:
        await self.budget.acquire()
        series = self._series[symbol]
        last = series.last_ms
        self.counters.polls[symbol] += 1
        # Wait at least one poll interval before asking for this symbol again.
        self._next_poll_ms[symbol] = self._now_ms() + int(self._poll_interval_s * 1000)
        since = None if last is None else last + self.timeframe_ms
        try:
            candles = await self._source.fetch_candles(symbol, self.timeframe, since_ms=since)
        except TransientVenueError as error:
            self._note_rest_error(symbol, error)
            self.counters.poll_errors[symbol] += 1
            return
        if since is None:
            # No history yet: only the latest closed candle anchors the series.
            closed = [c for c in candles if series.is_closed(c)]
            candles = closed[-1:]
        await self.ingest(symbol, candles)

    def _fetcher(self, symbol: str) -> Callable[[int, int], Awaitable[list[Candle]]]:
        async def fetch(since_ms: int, limit: int) -> list[Candle]:
            await self.budget.acquire()
            try:
                return await self._source.fetch_candles(
                    symbol, self.timeframe, since_ms=since_ms, limit=limit
                )
            except TransientVenueError as error:
                self._note_rest_error(symbol, error)
                raise

        return fetch

    def _note_rest_error(self, symbol: str, error: TransientVenueError) -> None:
        pause_if_rate_limited(self.budget, error)
        log.warning("candle_rest_failed", symbol=symbol, error=str(error))

    async def _staleness_loop(self) -> None:
        interval_s = max(self.timeframe_ms / 4000, 0.25)
        while True:
            await self._sleep(interval_s)
            await self.check_staleness()

    async def check_staleness(self) -> None:
        """Mark every symbol without a closed candle for too long as stale (NO_DATA)."""
        now = self._now_ms()
        for symbol, series in self._series.items():
            last = series.last_ms
            reference = (
                last + self.timeframe_ms
                if last is not None
                else (self._started_ms if self._started_ms is not None else now)
            )
            if now - reference > self._stale_after_ms:
                async with self._locks[symbol]:
                    await series.mark_no_data()

    async def _health_changed(self, health: SymbolHealth) -> None:
        await call_back(self._on_health, health)

    def _get_series(self, symbol: str) -> SymbolSeries:
        try:
            return self._series[symbol]
        except KeyError:
            raise KeyError(
                f"symbol {symbol!r} is not followed by this feed: {self.symbols}"
            ) from None
