"""CcxtVenue's REST trades and listenKey keep-alive on a constructed ccxt double (EX2, EX3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest

from aegis.config import ExchangeSettings
from aegis.model.errors import AuthenticationError
from aegis.venues.ccxt import CcxtVenue, RateLimitGate, RetryPolicy


class FakeExchange:
    """Only what the tested calls touch; records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.options: dict[str, Any] = {}
        self.last_response_headers: dict[str, str] = {}
        self.put_error: Exception | None = None

    def resolve_auth_type(self, method: str, market: Any, params: Any) -> list[Any]:
        return ["linear", "linear", params]

    def milliseconds(self) -> int:
        return 1_700_000_000_000

    async def fetch_trades(self, symbol: str, since: Any, limit: Any, params: Any) -> list[Any]:
        self.calls.append(("fetch_trades", (symbol, since, limit, params)))
        return [
            {"id": "12", "symbol": symbol, "timestamp": 2_000, "price": 1.5, "amount": 2.0,
             "side": "sell"},
            {"id": "11", "symbol": symbol, "timestamp": 1_000, "price": 1.4, "amount": 1.0,
             "side": "buy"},
        ]  # fmt: skip

    async def fapiPrivatePutListenKey(self, params: Any) -> dict[str, Any]:
        self.calls.append(("put_listen_key", params))
        if self.put_error is not None:
            raise self.put_error
        return {}


async def _no_sleep(seconds: float) -> None:
    return None


def _venue(name: str, exchange: FakeExchange) -> CcxtVenue:
    return CcxtVenue(
        name,
        ExchangeSettings(),
        exchange=exchange,
        gate=RateLimitGate(sleep=_no_sleep),
        policy=RetryPolicy(max_attempts=1, base_delay_s=0.0),
        sleep=_no_sleep,
    )


async def test_binance_rest_trades_use_the_endpoint_with_stream_ids_and_filter_locally() -> None:
    exchange = FakeExchange()
    trades = await _venue("binanceusdm", exchange).fetch_trades("XRP/USDT:USDT", since_ms=1_500)
    # aggTrades (ccxt's default) would number aggregates, not the @trade stream's ids
    assert exchange.calls == [
        (
            "fetch_trades",
            ("XRP/USDT:USDT", None, 1000, {"fetchTradesMethod": "fapiPublicGetTrades"}),
        )
    ]
    assert [(t.trade_id, t.ts_ms, t.price) for t in trades] == [("12", 2_000, Decimal("1.5"))]


async def test_other_exchanges_pass_since_to_rest_trades_oldest_first() -> None:
    exchange = FakeExchange()
    trades = await _venue("kraken", exchange).fetch_trades("BTC/USD", since_ms=500)
    assert exchange.calls == [("fetch_trades", ("BTC/USD", 500, None, {}))]
    assert [t.trade_id for t in trades] == ["11", "12"]


async def test_keep_alive_puts_the_cached_listen_key_and_stamps_it() -> None:
    exchange = FakeExchange()
    venue = _venue("binanceusdm", exchange)
    await venue.keep_alive()  # no stream opened yet: nothing to extend
    assert exchange.calls == []
    exchange.options["linear"] = {"listenKey": "abc", "lastAuthenticatedTime": 1}
    await venue.keep_alive()
    assert exchange.calls == [("put_listen_key", {})]
    assert exchange.options["linear"]["lastAuthenticatedTime"] == exchange.milliseconds()
    assert venue.user_stream.keepalives == 1


async def test_keep_alive_of_an_expired_key_raises_our_error() -> None:
    exchange = FakeExchange()
    exchange.options["linear"] = {"listenKey": "abc"}
    exchange.put_error = ccxt.AuthenticationError(
        '{"code":-1125,"msg":"This listenKey does not exist."}'
    )
    with pytest.raises(AuthenticationError, match="keep_alive listenKey linear"):
        await _venue("binanceusdm", exchange).keep_alive()


async def test_keep_alive_and_restart_are_no_ops_without_listen_keys() -> None:
    exchange = FakeExchange()
    venue = _venue("kraken", exchange)
    await venue.keep_alive()
    await venue.restart_user_stream()
    assert exchange.calls == []
    assert venue.user_stream.listen_key() is None
