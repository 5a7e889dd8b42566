"""A market order's reference price comes from the candle stream while it is fresh (PR2)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aegis.config import ExchangeSettings
from aegis.venues.ccxt import CcxtVenue

SYMBOL = "XRP/USDT:USDT"
MINUTE = 60_000


class FakeExchange:
    """The two ccxt calls involved: the kline stream and the REST ticker."""

    def __init__(self) -> None:
        self.ohlcvs: dict[str, dict[str, list[list[Any]]]] = {}
        self.rows: list[list[Any]] = [
            [0, 1.0, 1.1, 0.9, 1.05, 10.0],
            [MINUTE, 1.05, 1.2, 1.0, 1.1, 12.0],
        ]
        self.ticker_calls = 0

    async def watch_ohlcv(self, symbol: str, timeframe: str) -> list[list[Any]]:
        return self.rows

    async def fetch_ticker(self, symbol: str) -> dict[str, Any]:
        self.ticker_calls += 1
        return {"last": 2.5}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _venue(exchange: FakeExchange, clock: Clock) -> CcxtVenue:
    return CcxtVenue(
        "binanceusdm",
        ExchangeSettings(),
        exchange=exchange,
        monotonic=clock,
        streamed_price_max_age_s=10.0,
    )


async def test_fresh_streamed_close_is_the_reference_without_a_ticker_call() -> None:
    exchange, clock = FakeExchange(), Clock()
    venue = _venue(exchange, clock)
    await venue.watch_candles(SYMBOL, "1m")
    assert await venue.last_price(SYMBOL) == Decimal("1.1")
    assert exchange.ticker_calls == 0


async def test_stale_streamed_price_falls_back_to_the_rest_ticker() -> None:
    exchange, clock = FakeExchange(), Clock()
    venue = _venue(exchange, clock)
    await venue.watch_candles(SYMBOL, "1m")
    clock.now += 10.5
    assert await venue.last_price(SYMBOL) == Decimal("2.5")
    assert exchange.ticker_calls == 1


async def test_without_a_stream_the_ticker_is_asked() -> None:
    exchange, clock = FakeExchange(), Clock()
    assert await _venue(exchange, clock).last_price(SYMBOL) == Decimal("2.5")
    assert exchange.ticker_calls == 1
