"""Market data derived from the replayed candles: klines, tickers, book, mark price, trades."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aegis.venues.emulator.markets import MarketKind
from aegis.venues.emulator.records import fmt
from aegis.venues.emulator.replay import CandleFeed, TradeFeed

if TYPE_CHECKING:
    from aegis.venues.emulator.exchange import EmulatedExchange, MarketEvent

_DAY_MS = 86_400_000
_EIGHT_HOURS_MS = 8 * 3_600_000
_BOOK_LEVELS_MAX = 1000


def _text(value: float) -> str:
    if math.isnan(value):
        return "0"
    return fmt(Decimal(repr(float(value))))


def kline_row(feed: CandleFeed, index: int) -> list[Any]:
    """One row of ``GET klines`` (Binance's 12-field array)."""
    c = feed.candles
    volume = float(c.volume[index])
    quote_volume = 0.0 if math.isnan(volume) else volume * float(c.close[index])
    return [
        int(c.ts_ms[index]),
        _text(float(c.open[index])),
        _text(float(c.high[index])),
        _text(float(c.low[index])),
        _text(float(c.close[index])),
        _text(volume),
        feed.close_time_ms(index),
        _text(quote_volume),
        1,
        "0",
        "0",
        "0",
    ]


def klines(
    feed: CandleFeed, start_ms: int | None, end_ms: int | None, limit: int
) -> list[list[Any]]:
    """Closed, visible candles within [start, end]; the newest ``limit`` without a start."""
    rows = [
        i
        for i in feed.closed_indices()
        if (start_ms is None or int(feed.candles.ts_ms[i]) >= start_ms)
        and (end_ms is None or int(feed.candles.ts_ms[i]) <= end_ms)
    ]
    chosen = rows[:limit] if start_ms is not None else rows[-limit:]
    return [kline_row(feed, i) for i in chosen]


def _window(feed: CandleFeed) -> list[int]:
    last = feed.last_visible()
    if last is None:
        return []
    since = int(feed.candles.ts_ms[last]) + feed.interval_ms - _DAY_MS
    return [i for i in feed.closed_indices() if int(feed.candles.ts_ms[i]) >= since]


def ticker_24h(exchange: EmulatedExchange, kind: MarketKind, symbol_id: str) -> dict[str, Any]:
    """``GET ticker/24hr`` over the last 24 h of replayed history."""
    feed = exchange.feed(kind, symbol_id)
    last = exchange.last_price(kind, symbol_id)
    now = exchange.now_ms(kind, symbol_id)
    window = _window(feed) if feed is not None else []
    c = feed.candles if feed is not None else None
    if c is None or not window:
        open_ = high = low = last
        volume = Decimal(0)
    else:
        open_ = Decimal(repr(float(c.open[window[0]])))
        high = Decimal(repr(max(float(c.high[i]) for i in window)))
        low = Decimal(repr(min(float(c.low[i]) for i in window)))
        volume = Decimal(repr(sum(float(v) for v in c.volume[window] if not math.isnan(v))))
    change = last - open_
    spec = exchange.specs[kind][symbol_id]
    bid, ask = last - spec.tick_size, last + spec.tick_size
    return {
        "symbol": symbol_id,
        "priceChange": fmt(change),
        "priceChangePercent": fmt((change / open_ * 100).quantize(Decimal("0.001")))
        if open_
        else "0",
        "weightedAvgPrice": fmt(last),
        "prevClosePrice": fmt(open_),
        "lastPrice": fmt(last),
        "lastQty": "0",
        "bidPrice": fmt(bid),
        "bidQty": "1",
        "askPrice": fmt(ask),
        "askQty": "1",
        "openPrice": fmt(open_),
        "highPrice": fmt(high),
        "lowPrice": fmt(low),
        "volume": fmt(volume),
        "quoteVolume": fmt(volume * last),
        "openTime": now - _DAY_MS,
        "closeTime": now,
        "firstId": 0,
        "lastId": 0,
        "count": len(window),
    }


def _level_quantity(exchange: EmulatedExchange, kind: MarketKind, symbol_id: str) -> Decimal:
    """Quantity per book level: a share of the last candle's volume, at least 1 lot."""
    spec = exchange.specs[kind][symbol_id]
    feed = exchange.feed(kind, symbol_id)
    index = feed.last_visible() if feed is not None else None
    volume = 0.0
    if feed is not None and index is not None:
        volume = float(feed.candles.volume[index])
    quantity = Decimal(repr(volume / 100)) if volume > 0 and not math.isnan(volume) else Decimal(0)
    step = spec.step_size if spec.step_size > 0 else Decimal(1)
    quantity = (quantity // step) * step
    return max(quantity, spec.min_qty, step)


def depth(
    exchange: EmulatedExchange, kind: MarketKind, symbol_id: str, limit: int
) -> dict[str, Any]:
    """``GET depth``: ``limit`` levels a tick apart around the last price."""
    spec = exchange.specs[kind][symbol_id]
    last = exchange.last_price(kind, symbol_id)
    quantity = fmt(_level_quantity(exchange, kind, symbol_id))
    levels = max(1, min(limit, _BOOK_LEVELS_MAX))
    bids = [
        [fmt(last - spec.tick_size * n), quantity]
        for n in range(1, levels + 1)
        if last - spec.tick_size * n > 0
    ]
    asks = [[fmt(last + spec.tick_size * n), quantity] for n in range(1, levels + 1)]
    now = exchange.now_ms(kind, symbol_id)
    return {
        "lastUpdateId": exchange.candles_published,
        "E": now,
        "T": now,
        "bids": bids,
        "asks": asks,
    }


def premium_index(exchange: EmulatedExchange, symbol_id: str) -> dict[str, Any]:
    """``GET premiumIndex``: mark = last price, funding from the funding file (else 0).

    Without a funding file the emulator charges no funding, so it publishes a rate of 0: a
    paper run settles the published rate and must match what a live account is charged.
    """
    mark = exchange.last_price("usdm", symbol_id)
    now = exchange.now_ms("usdm", symbol_id)
    rate = "0.00000000"
    for funding in exchange.data.funding:
        if funding.symbol_id == symbol_id:
            rate = _text(funding.rate_at(now)[0])
    next_funding = (now // _EIGHT_HOURS_MS + 1) * _EIGHT_HOURS_MS
    return {
        "symbol": symbol_id,
        "markPrice": fmt(mark),
        "indexPrice": fmt(mark),
        "estimatedSettlePrice": fmt(mark),
        "lastFundingRate": rate,
        "interestRate": "0.0001",
        "nextFundingTime": next_funding,
        "time": now,
    }


def candle_events(exchange: EmulatedExchange, feed: CandleFeed, index: int) -> list[MarketEvent]:
    """Websocket events for one closed candle on every market that lists the feed."""
    events: list[MarketEvent] = []
    row = kline_row(feed, index)
    close_time = feed.close_time_ms(index)
    event_time = close_time + 1
    symbol = feed.symbol_id
    lower = symbol.lower()
    kline = {
        "e": "kline",
        "E": event_time,
        "s": symbol,
        "k": {
            "t": row[0], "T": row[6], "s": symbol, "i": feed.interval, "f": 0, "L": 0,
            "o": row[1], "c": row[4], "h": row[2], "l": row[3], "v": row[5], "n": 1,
            "x": True, "q": row[7], "V": "0", "Q": "0", "B": "0",
        },
    }  # fmt: skip
    for kind in feed.markets:
        events.append((kind, f"{lower}@kline_{feed.interval}", kline))
        if exchange.data.primary(kind, symbol) is not feed:
            continue
        ticker = ticker_24h(exchange, kind, symbol)
        mini = {
            "e": "24hrMiniTicker", "E": event_time, "s": symbol, "c": ticker["lastPrice"],
            "o": ticker["openPrice"], "h": ticker["highPrice"], "l": ticker["lowPrice"],
            "v": ticker["volume"], "q": ticker["quoteVolume"],
        }  # fmt: skip
        full = {"e": "24hrTicker", "E": event_time, "s": symbol, "c": ticker["lastPrice"],
                "o": ticker["openPrice"], "h": ticker["highPrice"], "l": ticker["lowPrice"],
                "v": ticker["volume"], "q": ticker["quoteVolume"], "p": ticker["priceChange"],
                "P": ticker["priceChangePercent"], "w": ticker["weightedAvgPrice"],
                "b": ticker["bidPrice"], "B": "1", "a": ticker["askPrice"], "A": "1",
                "O": ticker["openTime"], "C": ticker["closeTime"],
                "F": 0, "L": 0, "n": 0}  # fmt: skip
        book = {"e": "bookTicker", "u": exchange.candles_published, "E": event_time,
                "T": event_time, "s": symbol, "b": ticker["bidPrice"], "B": "1",
                "a": ticker["askPrice"], "A": "1"}  # fmt: skip
        events += [
            (kind, f"{lower}@miniTicker", mini),
            (kind, f"{lower}@ticker", full),
            (kind, f"{lower}@bookTicker", book),
        ]
        if kind == "usdm":
            premium = premium_index(exchange, symbol)
            mark = {"e": "markPriceUpdate", "E": event_time, "s": symbol,
                    "p": premium["markPrice"], "i": premium["indexPrice"],
                    "P": premium["estimatedSettlePrice"], "r": premium["lastFundingRate"],
                    "T": premium["nextFundingTime"]}  # fmt: skip
            events += [(kind, f"{lower}@markPrice", mark), (kind, f"{lower}@markPrice@1s", mark)]
        if not any(t.symbol_id == symbol and kind in t.markets for t in exchange.data.trades):
            # Without a trade file each closed candle prints one trade at its close.
            trade = candle_trade(feed, index)
            events.append((kind, f"{lower}@trade", {
                "e": "trade", "E": event_time, "T": trade["time"], "s": symbol,
                "t": trade["id"], "p": trade["price"], "q": trade["qty"], "X": "MARKET",
                "m": trade["isBuyerMaker"]}))  # fmt: skip
    return events


def trade_events(kind: MarketKind, feed: TradeFeed, indices: list[int]) -> list[MarketEvent]:
    """``@trade`` events for replayed public trades."""
    trades = feed.trades
    lower = feed.symbol_id.lower()
    events: list[MarketEvent] = []
    for i in indices:
        ts = int(trades.ts_ms[i])
        payload = {
            "e": "trade", "E": ts, "T": ts, "s": feed.symbol_id, "t": i + 1,
            "p": _text(float(trades.price[i])), "q": _text(float(trades.quantity[i])),
            "X": "MARKET", "m": trades.side_name(i) == "sell",
        }  # fmt: skip
        events.append((kind, f"{lower}@trade", payload))
    return events


def candle_trade(feed: CandleFeed, index: int) -> dict[str, Any]:
    """The one trade a closed candle prints when its symbol has no trade file (REST shape).

    Its id is the candle's row + 1 in the symbol's primary feed: the same on the ``@trade``
    stream and on ``GET trades``, so clients can de-duplicate across both.
    """
    row = kline_row(feed, index)
    quantity = row[5] if row[5] != "0" else "1"
    price = row[4]
    return {
        "id": index + 1, "price": price, "qty": quantity,
        "quoteQty": fmt(Decimal(price) * Decimal(quantity)), "time": row[6],
        "isBuyerMaker": False,
    }  # fmt: skip


def recent_trades(
    exchange: EmulatedExchange, kind: MarketKind, symbol_id: str, limit: int
) -> list[dict[str, Any]]:
    """``GET trades``: the latest ``limit`` public trades up to the replay clock, oldest first.

    Ids equal the ``@trade`` stream's ``t``. Trades left off the stream by a ``stream_gap``
    are listed (REST is how a client recovers them); candles of a ``gap`` print nothing.
    """
    feed = next(
        (t for t in exchange.data.trades if t.symbol_id == symbol_id and kind in t.markets), None
    )
    if feed is not None:
        trades = feed.trades
        rows: list[dict[str, Any]] = []
        for i in range(max(0, feed.cursor - limit), feed.cursor):
            price = Decimal(_text(float(trades.price[i])))
            quantity = Decimal(_text(float(trades.quantity[i])))
            rows.append({
                "id": i + 1, "price": fmt(price), "qty": fmt(quantity),
                "quoteQty": fmt(price * quantity), "time": int(trades.ts_ms[i]),
                "isBuyerMaker": trades.side_name(i) == "sell",
            })  # fmt: skip
    else:
        candles = exchange.data.primary(kind, symbol_id)
        rows = []
        if candles is not None:
            rows = [candle_trade(candles, i) for i in candles.closed_indices()[-limit:]]
    if kind == "spot":
        for row in rows:
            row["isBestMatch"] = True
    return rows
