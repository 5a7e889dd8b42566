"""Market data of one ``CcxtVenue``: candles, public trades and the last price (REST + streams).

Kept apart from the venue's orders and account: this side owns the stream bookkeeping (closed
candles, streamed prices, the last public trade returned per symbol) and only reads the
venue's ccxt client, caller and profile.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aegis.model.candle import Candle
from aegis.venues.base import PublicTrade
from aegis.venues.ccxt.markets import to_decimal
from aegis.venues.ccxt.parsing import candle, public_trade
from aegis.venues.ccxt.streams import ClosedCandles, StreamedPrices

if TYPE_CHECKING:
    from aegis.venues.ccxt.venue import CcxtVenue


class MarketData:
    """Candles, public trades and last prices for one ``CcxtVenue``; one object per venue."""

    def __init__(
        self, venue: CcxtVenue, streamed_price_max_age_s: float, monotonic: Callable[[], float]
    ) -> None:
        self._venue = venue
        self._candles = ClosedCandles()
        self._prices = StreamedPrices(streamed_price_max_age_s, monotonic)
        self._trade_marks: dict[str, tuple[int, int, str]] = {}  # last returned trade per symbol

    async def fetch_candles(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        """Return REST candles of ``symbol`` (the last one may still be open)."""
        venue = self._venue
        exchange = venue.exchange
        rows = await venue.caller.call(
            f"fetch_ohlcv {symbol} {timeframe}",
            lambda: exchange.fetch_ohlcv(symbol, timeframe, since_ms, limit),
        )
        return [candle(row) for row in rows]

    async def last_price(self, symbol: str) -> Decimal | None:
        """Return the streamed price of ``symbol`` when fresh, else the REST ticker's last."""
        streamed = self._prices.fresh(symbol)
        if streamed is not None:
            return streamed
        venue = self._venue
        exchange = venue.exchange
        ticker = await venue.caller.call(
            f"fetch_ticker {symbol}", lambda: exchange.fetch_ticker(symbol)
        )
        return to_decimal(ticker.get("last") or ticker.get("close"), field="last", symbol=symbol)

    async def watch_candles(self, symbol: str, timeframe: str) -> list[Candle]:
        """Return the closed candles of ``symbol`` not returned yet; wait if there are none.

        ccxt resolves ``watch_ohlcv`` only for a waiter: a kline that arrived while nobody
        waited sits in ``exchange.ohlcvs`` until the next message. It is drained first, so
        each closed candle is returned once and without waiting for the following one.
        """
        venue = self._venue
        exchange = venue.exchange
        market_id = str(exchange.market(symbol)["id"]) if venue.instruments() else symbol
        cached = self._cached_ohlcv(symbol, timeframe)
        self._prices.note(symbol, cached)
        if cached:
            closed = self._candles.closed(symbol, market_id, timeframe, cached)
            if closed:
                return closed
        while True:
            rows = await venue.caller.once(
                f"watch_ohlcv {symbol} {timeframe}",
                lambda: exchange.watch_ohlcv(symbol, timeframe),
            )
            # the whole cache, not just this answer: rows may have arrived in between
            current = [*self._cached_ohlcv(symbol, timeframe), *rows]
            self._prices.note(symbol, current)
            closed = self._candles.closed(symbol, market_id, timeframe, current)
            if closed:
                return closed

    def _cached_ohlcv(self, symbol: str, timeframe: str) -> list[Any]:
        by_symbol = getattr(self._venue.exchange, "ohlcvs", None)
        if not isinstance(by_symbol, dict):
            return []
        rows = (by_symbol.get(symbol) or {}).get(timeframe)
        return [] if rows is None else list(rows)

    async def watch_trades(self, symbol: str) -> list[PublicTrade]:
        """Return the public trades of ``symbol`` not returned yet; wait if there are none.

        As with candles, trades that reached ccxt's cache while nobody waited are drained
        first instead of waiting for the next message.
        """
        venue = self._venue
        exchange = venue.exchange
        fresh = self._unreturned_trades(symbol, [])
        if fresh:
            return fresh
        while True:
            raw = await venue.caller.once(
                f"watch_trades {symbol}", lambda: exchange.watch_trades(symbol)
            )
            fresh = self._unreturned_trades(symbol, raw)
            if fresh:
                return fresh

    def _unreturned_trades(self, symbol: str, answer: list[Any]) -> list[PublicTrade]:
        cache = getattr(self._venue.exchange, "trades", None)
        cached = list(cache.get(symbol) or []) if isinstance(cache, dict) else []
        trades = sorted((public_trade(r) for r in [*cached, *answer]), key=_trade_key)
        mark = self._trade_marks.get(symbol)
        fresh: list[PublicTrade] = []
        seen: set[str] = set()
        for trade in trades:
            key = _trade_key(trade)
            if (mark is None or key > mark) and trade.trade_id not in seen:
                seen.add(trade.trade_id)
                fresh.append(trade)
        if fresh:
            self._trade_marks[symbol] = _trade_key(fresh[-1])
        return fresh

    async def fetch_trades(self, symbol: str, since_ms: int | None = None) -> list[PublicTrade]:
        """Return recent public trades of ``symbol`` from REST, oldest first.

        The trade ids are those of the ``watch_trades`` stream (see
        ``ExchangeProfile.public_trades_params``), so both can be de-duplicated by id.
        """
        venue = self._venue
        exchange = venue.exchange
        profile = venue.profile
        since = since_ms if profile.public_trades_since else None
        limit = 1000 if since is None else None
        params = dict(profile.public_trades_params)
        raw = await venue.caller.call(
            f"fetch_trades {symbol}",
            lambda: exchange.fetch_trades(symbol, since, limit, params),
        )
        trades = [public_trade(r) for r in raw]
        trades.sort(key=lambda t: t.ts_ms)
        return [t for t in trades if since_ms is None or t.ts_ms >= since_ms]

    def hook_closed_klines(self) -> None:
        """Record Binance's kline "closed" flag, which ccxt's parser drops (instance-level)."""
        venue = self._venue
        exchange = venue.exchange
        original = getattr(exchange, "handle_ohlcv", None)
        if not venue.profile.uses_binance_filters or original is None:
            return
        closed = self._candles

        def handle_ohlcv(client: Any, message: Any) -> Any:
            kline = message.get("k") if isinstance(message, dict) else None
            if isinstance(kline, dict) and kline.get("x") is True:
                closed.mark_closed(str(kline.get("s")), str(kline.get("i")), int(kline["t"]))
            return original(client, message)

        exchange.handle_ohlcv = handle_ohlcv


def _trade_key(trade: PublicTrade) -> tuple[int, int, str]:
    """Order trades by time, then by id (numerically for Binance's integer ids)."""
    trade_id = trade.trade_id
    return (trade.ts_ms, int(trade_id) if trade_id.isdigit() else -1, trade_id)
