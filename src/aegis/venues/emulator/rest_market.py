"""Public REST endpoints: time, exchangeInfo, klines, tickers, depth, premium index."""

from __future__ import annotations

from typing import Any

from aegis.venues.emulator import errors, streams
from aegis.venues.emulator.call import Call
from aegis.venues.emulator.records import fmt

_INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w")


def ping(call: Call) -> Any:
    """``GET ping``."""
    return {}


def server_time(call: Call) -> Any:
    """``GET time``: the wall clock (what signatures are checked against)."""
    return {"serverTime": call.wall_ms}


def exchange_info(call: Call) -> Any:
    """``GET exchangeInfo`` with the real metadata plus the replayed symbols."""
    info: dict[str, Any] = {
        "timezone": "UTC",
        "serverTime": call.wall_ms,
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 2400,
            },
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
        ],
        "exchangeFilters": [],
        "symbols": call.exchange.exchange_info(call.kind),
    }
    if call.kind == "usdm":
        info["futuresType"] = "U_MARGINED"
        info["assets"] = [
            {"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"},
            {"asset": "USDC", "marginAvailable": True, "autoAssetExchange": "-10000"},
            {"asset": "BTC", "marginAvailable": True, "autoAssetExchange": "0"},
        ]
    return info


def empty_exchange_info(call: Call) -> Any:
    """``GET /dapi/v1/exchangeInfo``: coin-margined futures are not emulated."""
    return {"timezone": "UTC", "serverTime": call.wall_ms, "rateLimits": [], "symbols": []}


def klines(call: Call) -> Any:
    """``GET klines``: closed candles of the feed with that interval."""
    spec = call.symbol()
    interval = call.text("interval")
    if interval not in _INTERVALS:
        raise errors.invalid_interval()
    feeds = call.exchange.data.candle_feeds(call.kind, spec.symbol_id)
    feed = next((f for f in feeds if f.interval == interval), None)
    if feed is None:
        return []
    limit = call.limit(500, 1500 if call.kind == "usdm" else 1000)
    return streams.klines(feed, call.integer("startTime"), call.integer("endTime"), limit)


def _symbols_with_data(call: Call) -> list[str]:
    return [s for s in call.exchange.data.symbols(call.kind) if s in call.exchange.specs[call.kind]]


def ticker_24h(call: Call) -> Any:
    """``GET ticker/24hr`` for one symbol, or every symbol with data."""
    spec = call.optional_symbol()
    if spec is not None:
        return streams.ticker_24h(call.exchange, call.kind, spec.symbol_id)
    return [streams.ticker_24h(call.exchange, call.kind, s) for s in _symbols_with_data(call)]


def ticker_price(call: Call) -> Any:
    """``GET ticker/price``."""

    def one(symbol_id: str) -> dict[str, Any]:
        price = call.exchange.last_price(call.kind, symbol_id)
        return {"symbol": symbol_id, "price": fmt(price), "time": call.wall_ms}

    spec = call.optional_symbol()
    return one(spec.symbol_id) if spec is not None else [one(s) for s in _symbols_with_data(call)]


def book_ticker(call: Call) -> Any:
    """``GET ticker/bookTicker``: best bid/ask a tick around the last price."""

    def one(symbol_id: str) -> dict[str, Any]:
        book = streams.depth(call.exchange, call.kind, symbol_id, 1)
        bid, ask = book["bids"][0] if book["bids"] else ["0", "0"], book["asks"][0]
        return {"symbol": symbol_id, "bidPrice": bid[0], "bidQty": bid[1], "askPrice": ask[0],
                "askQty": ask[1], "time": call.wall_ms}  # fmt: skip

    spec = call.optional_symbol()
    return one(spec.symbol_id) if spec is not None else [one(s) for s in _symbols_with_data(call)]


def depth(call: Call) -> Any:
    """``GET depth``."""
    spec = call.symbol()
    return streams.depth(call.exchange, call.kind, spec.symbol_id, call.limit(100, 1000))


def premium_index(call: Call) -> Any:
    """``GET premiumIndex`` for one symbol or every symbol with data."""
    spec = call.optional_symbol()
    if spec is not None:
        return streams.premium_index(call.exchange, spec.symbol_id)
    return [streams.premium_index(call.exchange, s) for s in _symbols_with_data(call)]


def recent_trades(call: Call) -> Any:
    """``GET trades``: recent public trades up to the replay clock (limit 500, max 1000)."""
    spec = call.symbol()
    return streams.recent_trades(call.exchange, call.kind, spec.symbol_id, call.limit(500, 1000))
