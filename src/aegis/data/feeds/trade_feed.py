"""Live public trades for many symbols: websocket with reconnect, REST while it is down (EX2).

Each symbol has a websocket watch task (``trade-ws:<symbol>``); one poll task (``trade-poll``)
asks REST, round robin within a request budget, for the trades of every symbol whose socket is
down. Trades from both paths pass one per-symbol ``TradeTape`` that drops what was delivered
already (by trade id) and keeps the delivered order by time.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

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
from aegis.data.feeds.protocols import NowMs, Sleep, TradeLike, TradeSource
from aegis.data.feeds.series import call_back
from aegis.data.feeds.timing import Backoff, RequestBudget, with_timeout
from aegis.model.errors import VenueError

log = structlog.get_logger(__name__)

TradeT = TypeVar("TradeT", bound=TradeLike)

#: Receives ``(symbol, trade)`` for every trade delivered, oldest first; sync or async.
TradeCallback = Callable[[str, TradeT], Awaitable[None] | None]


def trade_order_key(trade: TradeLike) -> tuple[int, int, int, str]:
    """Return the sort key of a trade: time, then its id (numerically when it is a number)."""
    trade_id = trade.trade_id
    if trade_id.isdigit():
        return (trade.ts_ms, 0, int(trade_id), "")
    return (trade.ts_ms, 1, 0, trade_id)


@dataclass(slots=True)
class TradeCounters:
    """Monotonic counts per symbol (plain counters: the metrics layer exports them)."""

    reconnects: Counter[str] = field(default_factory=Counter)
    polls: Counter[str] = field(default_factory=Counter)
    poll_errors: Counter[str] = field(default_factory=Counter)
    catch_ups: Counter[str] = field(default_factory=Counter)
    rest_trades: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    late: Counter[str] = field(default_factory=Counter)
    delivered: Counter[str] = field(default_factory=Counter)


class TradeTape(Generic[TradeT]):
    """One symbol's delivered trades: ids seen recently and the last delivered position.

    ``accept`` sorts a batch, drops trades whose id was delivered (``duplicates``) and trades
    older than the last delivered one (``late``: delivering them would break the order).
    ``window`` bounds the remembered ids; an id older than the window is still caught by the
    order check unless it shares the last trade's millisecond.
    """

    def __init__(self, window: int = 10_000) -> None:
        if window < 1:
            raise ValueError(f"trade de-duplication window must be >= 1, got {window}")
        self._window = window
        self._order: deque[str] = deque()
        self._seen: set[str] = set()
        self._last_key: tuple[int, int, int, str] | None = None
        self.last_ts_ms: int | None = None

    def accept(self, trades: Sequence[TradeT]) -> tuple[list[TradeT], int, int]:
        """Return ``(new trades in order, duplicates, late)`` and remember the new ones."""
        fresh: list[TradeT] = []
        duplicates = late = 0
        for trade in sorted(trades, key=trade_order_key):
            key = trade_order_key(trade)
            if trade.trade_id in self._seen:
                duplicates += 1
                continue
            if self._last_key is not None and key < self._last_key:
                late += 1
                continue
            self._remember(trade.trade_id)
            self._last_key = key
            self.last_ts_ms = trade.ts_ms
            fresh.append(trade)
        return fresh, duplicates, late

    def _remember(self, trade_id: str) -> None:
        self._seen.add(trade_id)
        self._order.append(trade_id)
        if len(self._order) > self._window:
            self._seen.discard(self._order.popleft())


class TradeFeed(Generic[TradeT]):
    """Public trades of ``symbols`` handed to ``on_trade`` once each and in time order (EX2).

    Args:
        source: websocket + REST trades (``CcxtVenue``, a test double...).
        symbols: unified symbols to follow.
        clock: returns now in UTC ms; ``sleep``: waits seconds (both injectable for tests).
        on_trade: called with ``(symbol, trade)`` for every new trade.
        backoff: reconnect delays of the websocket per symbol.
        requests_per_s: REST budget shared by polls and catch-ups.
        request_budget: a ready budget instead (shared with a ``CandleFeed`` of the same venue,
            or on a wall clock); overrides ``requests_per_s``.
        poll_interval_s: the minimum spacing of two polls of one symbol, and the idle tick.
        silence_timeout_s: a socket without a message for this long counts as dropped.
        dedup_window: how many recent trade ids per symbol are remembered.
    """

    def __init__(
        self,
        source: TradeSource[TradeT],
        symbols: Sequence[str],
        *,
        clock: NowMs,
        on_trade: TradeCallback[TradeT],
        sleep: Sleep = asyncio.sleep,
        backoff: Backoff | None = None,
        requests_per_s: float = 5.0,
        request_budget: RequestBudget | None = None,
        poll_interval_s: float = 1.0,
        silence_timeout_s: float = 60.0,
        dedup_window: int = 10_000,
    ) -> None:
        self.symbols = checked_symbols("TradeFeed", symbols, poll_interval_s)
        if not (math.isfinite(silence_timeout_s) and silence_timeout_s > 0):
            raise ValueError(f"silence_timeout_s must be positive, got {silence_timeout_s!r}")
        self.counters = TradeCounters()
        self._source = source
        self._now_ms = clock
        self._sleep = sleep
        self._on_trade = on_trade
        self._backoff = backoff if backoff is not None else Backoff()
        self.budget = budget_of(request_budget, requests_per_s, clock, sleep)
        self._poll_interval_ms = math.ceil(poll_interval_s * 1000)
        self._poll_interval_s = poll_interval_s
        self._silence_timeout_s = silence_timeout_s
        self._tapes: dict[str, TradeTape[TradeT]] = {
            symbol: TradeTape(dedup_window) for symbol in self.symbols
        }
        self._socket_up: dict[str, bool] = dict.fromkeys(self.symbols, False)
        # Down = failed since its last message; a socket still connecting at start is not down.
        self._socket_down: dict[str, bool] = dict.fromkeys(self.symbols, False)
        self._next_poll_ms: dict[str, int] = dict.fromkeys(self.symbols, 0)
        self._rotation: deque[str] = deque(self.symbols)
        self._locks = {symbol: asyncio.Lock() for symbol in self.symbols}
        self._started_ms: int | None = None

    # -- public state ------------------------------------------------------------------------

    def is_socket_up(self, symbol: str) -> bool:
        """Return True while the websocket of ``symbol`` is delivering."""
        self._tape(symbol)
        return self._socket_up[symbol]

    def last_trade_ms(self, symbol: str) -> int | None:
        """Return the time of the last delivered trade, None before the first one (EX6)."""
        return self._tape(symbol).last_ts_ms

    def age_ms(self, symbol: str, now_ms: int) -> int | None:
        """Return how old the last delivered trade is, None when there was none yet."""
        last = self.last_trade_ms(symbol)
        return None if last is None else max(0, now_ms - last)

    # -- running -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Run every task until cancelled; a task that fails with a bug stops the feed."""
        self._started_ms = self._now_ms()
        async with asyncio.TaskGroup() as group:
            for symbol in self.symbols:
                group.create_task(self._watch(symbol), name=f"trade-ws:{symbol}")
            group.create_task(self._poll_loop(), name="trade-poll")

    async def ingest(self, symbol: str, trades: Sequence[TradeT], *, from_rest: bool) -> int:
        """Deliver the new trades of a batch in order; return how many were new."""
        tape = self._tape(symbol)
        async with self._locks[symbol]:
            fresh, duplicates, late = tape.accept(trades)
            self.counters.duplicates[symbol] += duplicates
            self.counters.late[symbol] += late
            if late:
                log.warning("trade_late_dropped", symbol=symbol, count=late)
            for trade in fresh:
                await call_back(self._on_trade, symbol, trade)
            self.counters.delivered[symbol] += len(fresh)
            if from_rest:
                self.counters.rest_trades[symbol] += len(fresh)
        return len(fresh)

    async def _watch(self, symbol: str) -> None:
        attempt = 0
        while True:
            try:
                trades = await with_timeout(
                    self._source.watch_trades(symbol),
                    self._silence_timeout_s,
                    self._sleep,
                    name=f"trade-ws-watch:{symbol}",
                )
            except SOCKET_ERRORS as error:
                # Polling takes over (EX2) until a message comes through again.
                self._socket_up[symbol] = False
                self._socket_down[symbol] = True
                self.counters.reconnects[symbol] += 1
                await wait_to_reconnect(
                    self._backoff,
                    self._sleep,
                    attempt,
                    log=log,
                    event="trade_socket_down",
                    symbol=symbol,
                    error=error,
                )
                attempt += 1
                continue
            if self._socket_down[symbol]:
                # Back after a drop: what traded while the socket was down comes first.
                await self._fetch(symbol, catch_up=True)
                log.info("trade_socket_up", symbol=symbol, after_attempts=attempt)
            self._socket_up[symbol] = True
            self._socket_down[symbol] = False
            attempt = 0
            await self.ingest(symbol, trades, from_rest=False)

    async def _poll_loop(self) -> None:
        await poll_forever(self._next_due_symbol, self._poll, self._sleep, self._poll_interval_s)

    async def _poll(self, symbol: str) -> None:
        await self._fetch(symbol, catch_up=False)

    def _next_due_symbol(self) -> str | None:
        """Return the next symbol (round robin) whose socket is down and whose poll is due."""
        now = self._now_ms()
        return next_in_rotation(
            self._rotation,
            lambda symbol: self._socket_down[symbol] and now >= self._next_poll_ms[symbol],
        )

    async def _fetch(self, symbol: str, *, catch_up: bool) -> None:
        """Ask REST for the trades since the last delivered one (or since the feed started)."""
        tape = self._tape(symbol)
        # Inclusive: trades sharing the last trade's millisecond are de-duplicated by id.
        since = tape.last_ts_ms if tape.last_ts_ms is not None else self._started_ms
        self._next_poll_ms[symbol] = self._now_ms() + self._poll_interval_ms
        if catch_up:
            self.counters.catch_ups[symbol] += 1
        else:
            self.counters.polls[symbol] += 1
        await self.budget.acquire()
        try:
            trades = await self._source.fetch_trades(symbol, since_ms=since)
        except VenueError as error:
            # The socket path goes on; the next poll (or catch-up) asks again.
            pause_if_rate_limited(self.budget, error)
            self.counters.poll_errors[symbol] += 1
            log.warning("trade_rest_failed", symbol=symbol, since_ms=since, error=str(error))
            return
        await self.ingest(symbol, trades, from_rest=True)

    def _tape(self, symbol: str) -> TradeTape[TradeT]:
        try:
            return self._tapes[symbol]
        except KeyError:
            raise KeyError(
                f"symbol {symbol!r} is not followed by this feed: {self.symbols}"
            ) from None
