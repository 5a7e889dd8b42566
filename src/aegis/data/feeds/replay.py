"""A deterministic ``CandleSource`` over stored candles, with scriptable faults (tests, parity).

Candles are "published" as the clock passes their close time. The websocket side returns each
newly closed candle once; faults make it drop (raise), stall, hide candles from the socket only,
or hide them from REST too (a gap nobody can fill).
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Mapping, Sequence

from aegis.data.feeds.protocols import NowMs, Sleep
from aegis.data.timeframes import parse_timeframe
from aegis.model.candle import Candle
from aegis.model.errors import TransientVenueError


class ReplayCandleSource:
    """Replay ``candles_by_symbol`` under ``clock``; see the module docstring.

    Args:
        candles_by_symbol: each symbol's candles, any order, one timeframe.
        timeframe: their timeframe, e.g. ``"1m"``.
        clock: returns now in ms; a candle is visible once ``ts_ms + timeframe <= now``.
        sleep: waits seconds; the websocket side sleeps ``poll_s`` between checks.
        poll_s: how often a waiting ``watch_candles`` looks for a newly closed candle.
    """

    def __init__(
        self,
        candles_by_symbol: Mapping[str, Sequence[Candle]],
        timeframe: str,
        *,
        clock: NowMs,
        sleep: Sleep = asyncio.sleep,
        poll_s: float = 1.0,
    ) -> None:
        self.timeframe = timeframe
        self.timeframe_ms = parse_timeframe(timeframe)
        self._candles = {s: sorted(c, key=lambda x: x.ts_ms) for s, c in candles_by_symbol.items()}
        self._times = {s: [c.ts_ms for c in cs] for s, cs in self._candles.items()}
        self._now_ms = clock
        self._sleep = sleep
        self._poll_s = poll_s
        self._sent_ms: dict[str, int] = {}
        self.socket_hidden: set[tuple[str, int]] = set()
        self.rest_hidden: set[tuple[str, int]] = set()
        self.drops_pending: dict[str, int] = {}
        self.is_stalled = False
        self.rest_failures_pending = 0
        self.rest_calls: list[tuple[int, str, int | None, int | None]] = []
        self.watch_calls = 0

    # -- faults ------------------------------------------------------------------------------

    def drop(self, symbol: str, times: int = 1) -> None:
        """Make the next ``times`` ``watch_candles`` calls of ``symbol`` fail (dropped socket)."""
        self.drops_pending[symbol] = self.drops_pending.get(symbol, 0) + times

    def hide_from_socket(self, symbol: str, *ts_ms: int) -> None:
        """Never push these candles on the socket (REST still has them)."""
        self.socket_hidden.update((symbol, t) for t in ts_ms)

    def hide_everywhere(self, symbol: str, *ts_ms: int) -> None:
        """Remove these candles from the socket and from REST: a gap nobody can fill."""
        self.hide_from_socket(symbol, *ts_ms)
        self.rest_hidden.update((symbol, t) for t in ts_ms)

    def fail_rest(self, times: int) -> None:
        """Make the next ``times`` REST calls raise ``TransientVenueError``."""
        self.rest_failures_pending += times

    # -- CandleSource ------------------------------------------------------------------------

    async def watch_candles(self, symbol: str, timeframe: str) -> list[Candle]:
        """Wait until candles of ``symbol`` closed since the last call, and return them."""
        self._check(symbol, timeframe)
        self.watch_calls += 1
        while True:
            if self.drops_pending.get(symbol, 0) > 0:
                self.drops_pending[symbol] -= 1
                # A new subscription only hears about candles that close after it (like Binance).
                self._sent_ms.pop(symbol, None)
                raise TransientVenueError(f"replay websocket for {symbol} dropped")
            fresh = [] if self.is_stalled else self._newly_closed(symbol)
            if fresh:
                return fresh
            await self._sleep(self._poll_s)

    async def fetch_candles(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Return candles opened at or after ``since_ms`` and already open by now, oldest first."""
        self._check(symbol, timeframe)
        self.rest_calls.append((self._now_ms(), symbol, since_ms, limit))
        if self.rest_failures_pending > 0:
            self.rest_failures_pending -= 1
            raise TransientVenueError(f"replay REST for {symbol} failed (injected)")
        now = self._now_ms()
        times = self._times[symbol]
        start = 0 if since_ms is None else bisect.bisect_left(times, since_ms)
        # REST also returns the candle that is still open, like a real exchange.
        found = [
            c
            for c in self._candles[symbol][start:]
            if c.ts_ms <= now and (symbol, c.ts_ms) not in self.rest_hidden
        ]
        if limit is not None:
            found = found[:limit]
        return found

    def _newly_closed(self, symbol: str) -> list[Candle]:
        now = self._now_ms()
        sent = self._sent_ms.get(symbol)
        times = self._times[symbol]
        start = 0 if sent is None else bisect.bisect_right(times, sent)
        closed = [c for c in self._candles[symbol][start:] if c.ts_ms + self.timeframe_ms <= now]
        if not closed:
            return []
        if sent is None:
            closed = closed[-1:]  # a fresh subscription starts at the latest closed candle
        self._sent_ms[symbol] = closed[-1].ts_ms
        return [c for c in closed if (symbol, c.ts_ms) not in self.socket_hidden]

    def _check(self, symbol: str, timeframe: str) -> None:
        if symbol not in self._candles:
            raise KeyError(f"replay has no candles for symbol {symbol!r}")
        if parse_timeframe(timeframe) != self.timeframe_ms:
            raise ValueError(f"replay serves timeframe {self.timeframe}, asked for {timeframe!r}")
