"""Spot smoke test through unmodified ccxt.async_support.binance."""

from __future__ import annotations

import ccxt
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


async def test_spot_market_data_orders_and_balances(spot_client, spot_server) -> None:
    client, server = spot_client, spot_server
    markets = await client.load_markets()
    assert markets["BTC/USDT"]["precision"]["price"] == pytest.approx(0.01)  # real filter
    assert "BTC/USDT:USDT" in markets  # the same file also feeds the USD-M symbol
    candles = await client.fetch_ohlcv("BTC/USDT", "5m")
    assert len(candles) == 20
    last = (await client.fetch_ticker("BTC/USDT"))["last"]
    assert last == pytest.approx(candles[-1][4])
    order = await client.create_order("BTC/USDT", "market", "buy", 0.01)
    server.step()
    filled = await client.fetch_order(order["id"], "BTC/USDT")
    assert filled["status"] == "closed"
    balance = await client.fetch_balance()
    assert balance["BTC"]["free"] == pytest.approx(0.01)
    assert balance["USDT"]["total"] < 1000 - 0.01 * last * 0.9
    with pytest.raises(ccxt.BadRequest, match="NOTIONAL"):  # as ccxt maps real -1013
        await client.create_order("BTC/USDT", "limit", "buy", 0.0001, round(last * 0.9, 2))
    with pytest.raises(ccxt.InsufficientFunds):
        await client.create_order("BTC/USDT", "limit", "buy", 1, round(last * 0.9, 2))
    assert len(await client.fetch_my_trades("BTC/USDT")) == 1
    assert server.stats()["unhandled_count"] == 0
