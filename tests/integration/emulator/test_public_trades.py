"""Public trades over REST (``GET trades``) and spot streams through unmodified ccxt.pro binance."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro
import pytest

from aegis.venues.emulator import AccountSpec, EmulatorConfig, configure_ccxt
from aegis.venues.emulator.server import EmulatorServer

from .conftest import SYMBOL
from .helpers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

SPOT = "BTC/USDT"
USDM_TRADES = {"fetchTradesMethod": "fapiPublicGetTrades"}
SPOT_TRADES = {"fetchTradesMethod": "publicGetTrades"}


def subscribed(server: EmulatorServer, stream: str) -> bool:
    return any(stream in conn.streams for conn in server.hub.connections)


async def test_rest_trades_ids_match_the_trade_stream(
    server: EmulatorServer, pro_client: ccxt_pro.binanceusdm
) -> None:
    await pro_client.load_markets()
    before = await pro_client.fetch_trades(SYMBOL, params=USDM_TRADES)
    watcher = asyncio.create_task(pro_client.watch_trades(SYMBOL))
    await wait_until(lambda: subscribed(server, "xrpusdt@trade"))
    server.step()
    streamed = await asyncio.wait_for(watcher, 5)
    after = await pro_client.fetch_trades(SYMBOL, params=USDM_TRADES)
    # The REST list runs up to the replay clock and ends with the trade just streamed.
    assert [t["id"] for t in after][-1] == streamed[-1]["id"]
    assert after[-1]["price"] == streamed[-1]["price"]
    assert after[-1]["timestamp"] == streamed[-1]["timestamp"]
    assert len(after) == len(before) + 1
    assert [t["id"] for t in after[:-1]] == [t["id"] for t in before]
    latest_two = await pro_client.fetch_trades(SYMBOL, limit=2, params=USDM_TRADES)
    assert [t["id"] for t in latest_two] == [t["id"] for t in after[-2:]]
    assert server.stats()["requests"]["GET /fapi/v1/trades"] == 3
    assert server.stats()["unhandled_count"] == 0


async def test_rest_trades_limit_is_capped_at_1000(bundled_data_dir: Path) -> None:
    config = EmulatorConfig(
        data_files=(bundled_data_dir / "binance-usdm_XRP-USDT-PERP_5m.csv.gz",),
        accounts=(AccountSpec("k", "s"),),
        history_candles=1200,
    )
    server = EmulatorServer(config)
    await server.start()
    client = configure_ccxt(ccxt_async.binanceusdm(), server.base_url)
    try:
        await client.load_markets()
        default = await client.fetch_trades(SYMBOL, params=USDM_TRADES)
        capped = await client.fetch_trades(SYMBOL, limit=5000, params=USDM_TRADES)
        assert (len(default), len(capped)) == (500, 1000)
        assert capped[-1]["id"] == "1200"  # one trade per closed candle, row + 1
    finally:
        await client.close()
        await server.stop()


@pytest.fixture
async def spot_server(bundled_data_dir: Path) -> AsyncIterator[EmulatorServer]:
    """BTCUSDT is listed on spot and USD-M: the symbol id alone cannot tell the market."""
    config = EmulatorConfig(
        data_files=(bundled_data_dir / "unknown_BTC-USDT_5m.csv.gz",),
        accounts=(AccountSpec("spot-key", "spot-secret", balance=Decimal(1000)),),
        history_candles=20,
    )
    server = EmulatorServer(config)
    await server.start()
    yield server
    await server.stop()


async def test_spot_watch_trades_and_ohlcv_through_ccxt_pro(spot_server: EmulatorServer) -> None:
    client = configure_ccxt(ccxt_pro.binance(), spot_server.base_url)
    try:
        await client.load_markets()
        trades_task = asyncio.create_task(client.watch_trades(SPOT))
        ohlcv_task = asyncio.create_task(client.watch_ohlcv(SPOT, "5m"))
        await wait_until(
            lambda: (
                subscribed(spot_server, "btcusdt@trade")
                and subscribed(spot_server, "btcusdt@kline_5m")
            )
        )
        spot_server.step()
        trades = await asyncio.wait_for(trades_task, 5)
        ohlcv = await asyncio.wait_for(ohlcv_task, 5)
        rest_candles = await client.fetch_ohlcv(SPOT, "5m")
        rest_trades = await client.fetch_trades(SPOT, params=SPOT_TRADES)
        sockets = list(spot_server.hub.connections)
    finally:
        await client.close()
    # Filed under the spot symbol, not the USD-M perpetual with the same id.
    assert trades[-1]["symbol"] == SPOT
    assert trades[-1]["id"] == rest_trades[-1]["id"] == "21"
    assert trades[-1]["price"] == rest_candles[-1][4]
    assert ohlcv[-1] == rest_candles[-1]
    assert "BTC/USDT:USDT" not in client.trades
    assert sockets
    assert all(conn.kind == "spot" and conn.is_combined for conn in sockets)
    assert spot_server.stats()["unhandled_count"] == 0
