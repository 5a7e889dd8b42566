"""Turn ccxt.pro stream output into Aegis events: closed candles and order updates."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from aegis.model.candle import Candle
from aegis.model.enums import LiquidityRole, OrderSide
from aegis.model.events import Fill, OrderEventKind, OrderUpdate
from aegis.venues.ccxt.markets import to_decimal
from aegis.venues.ccxt.parsing import candle

_MS_TO_NS: Final = 1_000_000
_ZERO: Final = Decimal(0)
_TERMINAL_EVENTS: Final[Mapping[str, OrderEventKind]] = {
    "canceled": OrderEventKind.CANCEL,
    "cancelled": OrderEventKind.CANCEL,
    "expired": OrderEventKind.EXPIRE,
    "rejected": OrderEventKind.REJECT,
}


class StreamedPrices:
    """The latest price each symbol's websocket delivered, and when it arrived.

    A market order's notional is checked against the venue's last price before it is sent
    (PR2). A kline the socket delivered moments ago is that price; asking REST for a ticker
    again would put a round trip between a closed candle and its order.
    """

    def __init__(self, max_age_s: float, monotonic: Callable[[], float]) -> None:
        self.max_age_s = max_age_s
        self._monotonic = monotonic
        self._latest: dict[str, tuple[float, float]] = {}

    def note(self, symbol: str, rows: Sequence[Any]) -> None:
        """Remember the close of the newest ccxt OHLCV row (open or closed) of ``symbol``."""
        if rows:
            close = rows[-1][4]
            if close is not None:
                self._latest[symbol] = (float(close), self._monotonic())

    def fresh(self, symbol: str) -> Decimal | None:
        """Return the remembered price when it is younger than ``max_age_s``, else None."""
        found = self._latest.get(symbol)
        if found is None or self._monotonic() - found[1] > self.max_age_s:
            return None
        return Decimal(repr(found[0]))


def _first(item: tuple[int, Sequence[Any]]) -> int:
    return item[0]


class ClosedCandles:
    """Decide which streamed candles have closed, and return each closed candle once.

    Binance marks a kline closed (``k.x``); ``mark_closed`` records that flag from the raw
    message. Without a flag, a candle is closed once a newer one has started.
    """

    def __init__(self) -> None:
        self._flagged: set[tuple[str, str, int]] = set()
        self._emitted: dict[tuple[str, str], int] = {}

    def mark_closed(self, market_id: str, interval: str, ts_ms: int) -> None:
        """Record the venue's own "this candle is final" flag."""
        self._flagged.add((market_id.lower(), interval, ts_ms))

    def closed(
        self, symbol: str, market_id: str, timeframe: str, rows: Sequence[Sequence[Any]]
    ) -> list[Candle]:
        """Return the rows that closed since the last call, oldest first.

        ``rows`` is ccxt's candle cache (up to 1,000 rows, oldest first: it appends a new
        candle and updates a known one in place), possibly followed by a watch's answer. Only
        its tail after the last candle returned is read, so a call costs the new rows, not
        the cache's length; that tail is the rows up to the first one not newer than it.
        """
        key = (symbol, timeframe)
        last = self._emitted.get(key, -1)
        fresh: list[tuple[int, Sequence[Any]]] = []
        for row in reversed(rows):
            ts_ms = int(row[0])
            if ts_ms <= last:
                if fresh:
                    break
                continue  # the watch's answer repeats rows already returned
            fresh.append((ts_ms, row))
        if not fresh:
            return []
        fresh.sort(key=_first)
        newest = fresh[-1][0]
        market = market_id.lower()
        result: list[Candle] = []
        for ts_ms, row in fresh:
            if result and ts_ms == result[-1].ts_ms:
                continue  # the same candle from the cache and from the answer
            flag = (market, timeframe, ts_ms)
            if flag in self._flagged or ts_ms < newest:
                self._flagged.discard(flag)
                result.append(candle(row))
        if result:
            self._emitted[key] = result[-1].ts_ms
        return result


class OrderUpdateTracker:
    """Turn ccxt order snapshots from the user stream into ``OrderUpdate`` events.

    Fill quantities are the increase of ``filled`` since the last snapshot of the order, so a
    snapshot seen twice yields no second fill. Binance's raw fields (``t`` trade id, ``L`` / ``l``
    last price and quantity, ``n`` / ``N`` commission, ``m`` maker) are used when present.
    """

    def __init__(self) -> None:
        self._filled: dict[str, Decimal] = {}
        self._accepted: set[str] = set()
        # the last snapshot state seen per client id: finds what ``from_cache`` has not seen
        self._seen: dict[str, tuple[Any, ...]] = {}

    def from_cache(self, cache: Sequence[Mapping[str, Any]] | None) -> list[OrderUpdate]:
        """Return the events of cached snapshots that changed since this tracker saw them.

        ccxt.pro wakes a ``watch_orders`` caller only for a message that arrives while the
        caller waits; one that lands between two watches (the FILL right after the ACCEPT of
        a market order) is stored in ``exchange.orders`` with no wake-up, and its events would
        wait for the next message on the stream, possibly forever. The cache moves an updated
        order to its end, so scanning from the newest entry back to the first one already seen
        in its current state finds every missed snapshot, in O(new entries).
        """
        if not cache:
            return []
        missed: list[Mapping[str, Any]] = []
        for raw in reversed(cache):
            client_id = raw.get("clientOrderId")
            if client_id is None:
                continue  # not ours (placed without a client id): never seen, never returned
            if self._seen.get(str(client_id)) == _state(raw):
                break
            missed.append(raw)
        return [event for raw in reversed(missed) for event in self.updates(raw)]

    def seed(self, client_order_id: str, filled: Decimal) -> None:
        """Start tracking an order whose fills up to ``filled`` are already known."""
        self._filled[client_order_id] = filled
        self._accepted.add(client_order_id)

    def updates(self, raw: Mapping[str, Any]) -> list[OrderUpdate]:
        """Return the events one order snapshot implies (possibly none)."""
        client_id = raw.get("clientOrderId")
        if client_id is None:
            return []
        cid = str(client_id)
        self._seen[cid] = _state(raw)
        symbol = str(raw.get("symbol"))
        venue_id = None if raw.get("id") is None else str(raw.get("id"))
        ts_ms = int(raw.get("lastUpdateTimestamp") or raw.get("timestamp") or 0)
        events: list[OrderUpdate] = []
        if cid not in self._accepted:
            self._accepted.add(cid)
            events.append(
                OrderUpdate(cid, OrderEventKind.ACCEPT, ts_ms * _MS_TO_NS, None, venue_id)
            )
        filled = to_decimal(raw.get("filled"), field="filled", symbol=symbol) or _ZERO
        known = self._filled.get(cid, _ZERO)
        if filled > known:
            self._filled[cid] = filled
            amount = to_decimal(raw.get("amount"), field="amount", symbol=symbol) or filled
            kind = OrderEventKind.FILL if filled >= amount else OrderEventKind.PARTIAL_FILL
            fill = _fill(raw, cid, symbol, filled - known, ts_ms)
            events.append(OrderUpdate(cid, kind, fill.ts_ns, fill, venue_id))
        terminal = _TERMINAL_EVENTS.get(str(raw.get("status") or "").lower())
        if terminal is not None:
            events.append(OrderUpdate(cid, terminal, ts_ms * _MS_TO_NS, None, venue_id))
        return events


def _state(raw: Mapping[str, Any]) -> tuple[Any, ...]:
    """What makes two snapshots of one order different for ``OrderUpdateTracker``."""
    return (raw.get("status"), raw.get("filled"), raw.get("lastUpdateTimestamp"))


def _fill(raw: Mapping[str, Any], cid: str, symbol: str, quantity: Decimal, ts_ms: int) -> Fill:
    info = raw.get("info") or {}
    last_price = to_decimal(info.get("L"), field="L", symbol=symbol)
    if last_price is None or last_price == 0:
        last_price = to_decimal(raw.get("average"), field="average", symbol=symbol)
    if last_price is None:
        last_price = to_decimal(raw.get("price"), field="price", symbol=symbol) or _ZERO
    trade_id = info.get("t")
    if trade_id is None or str(trade_id) in ("", "0", "-1"):
        # no venue trade id in the stream: a stable synthetic one (order id + cumulative fill)
        trade_id = f"{raw.get('id')}-{raw.get('filled')}"
    fee = to_decimal(info.get("n"), field="n", symbol=symbol)
    fee_currency = info.get("N")
    if fee is None:
        fee_info = raw.get("fee") or {}
        fee = to_decimal(fee_info.get("cost"), field="fee.cost", symbol=symbol) or _ZERO
        fee_currency = fee_info.get("currency")
    is_maker = info.get("m") is True
    return Fill(
        client_order_id=cid,
        symbol=symbol,
        side=OrderSide(str(raw.get("side")).lower()),
        price=last_price,
        quantity=quantity,
        fee=fee,
        fee_currency=str(fee_currency or ""),
        liquidity=LiquidityRole.MAKER if is_maker else LiquidityRole.TAKER,
        ts_ns=int(info.get("T") or ts_ms) * _MS_TO_NS,
        trade_id=str(trade_id),
    )
