"""TradeFeed over the real CcxtVenue against the emulator's replayed BTC/USDT trades (EX2).

The emulator publishes the bundled real Binance BTC/USDT trades as the replay clock passes them;
5 s candles are built from the same trades so that each step publishes a few seconds of them.
Both the socket and the REST fallback are the real ``CcxtVenue`` (``watch_trades`` and
``fetch_trades`` over ``GET /fapi/v1/trades``), whose ids match, so the feed de-duplicates them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from aegis.data import read_trades
from aegis.data.feeds import Backoff, RequestBudget, TradeFeed, TradeSource
from aegis.venues.base import PublicTrade
from aegis.venues.ccxt import CcxtVenue, RetryPolicy
from aegis.venues.emulator import AccountSpec, EmulatorConfig, EmulatorServer

from .helpers import wait_until, wall_clock_ms

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

BTC = "BTC/USDT:USDT"
STEP_MS = 5_000
TRADES_FILE = "binance_BTC-USDT_trades.csv.gz"


def write_candles_from_trades(trades_path: Path, target: Path) -> None:
    trades = read_trades(trades_path)
    first = int(trades.ts_ms[0]) // STEP_MS * STEP_MS
    lines = ["timestamp_ms,open,high,low,close,volume"]
    for start in range(first, int(trades.ts_ms[-1]) + 1, STEP_MS):
        rows = [i for i in range(len(trades.ts_ms)) if start <= trades.ts_ms[i] < start + STEP_MS]
        prices = [float(trades.price[i]) for i in rows]
        volume = sum(float(trades.quantity[i]) for i in rows)
        lines.append(f"{start},{prices[0]},{max(prices)},{min(prices)},{prices[-1]},{volume}")
    with gzip.open(target, "wt") as handle:
        handle.write("\n".join(lines) + "\n")


@pytest.fixture
async def server(
    bundled_data_dir: Path, tmp_path: Path, emulator_account: AccountSpec
) -> AsyncIterator[EmulatorServer]:
    candles = tmp_path / "binance-usdm_BTC-USDT-PERP_5s.csv.gz"
    trades = tmp_path / "binance-usdm_BTC-USDT-PERP_trades.csv.gz"
    trades.write_bytes((bundled_data_dir / TRADES_FILE).read_bytes())
    write_candles_from_trades(trades, candles)
    config = EmulatorConfig(
        data_files=(candles, trades),
        accounts=(emulator_account,),
        history_candles=1,
    )
    emulator = EmulatorServer(config)
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def venue(
    server: EmulatorServer,
    connect_venue: Callable[[EmulatorServer, RetryPolicy], Awaitable[CcxtVenue]],
) -> CcxtVenue:
    return await connect_venue(server, RetryPolicy(base_delay_s=0.01))


def subscribed(server: EmulatorServer) -> bool:
    return any("btcusdt@trade" in c.streams for c in server.hub.connections)


async def test_trades_arrive_once_in_order_across_a_dropped_socket(
    venue: CcxtVenue, server: EmulatorServer
) -> None:
    source: TradeSource[PublicTrade] = venue
    received: list[PublicTrade] = []
    feed: TradeFeed[PublicTrade] = TradeFeed(
        source,
        [BTC],
        clock=wall_clock_ms,
        on_trade=lambda symbol, trade: received.append(trade),
        backoff=Backoff(initial_s=0.05, max_s=0.2, seed=1),
        request_budget=RequestBudget(50.0, now_ms=wall_clock_ms, sleep=asyncio.sleep),
        poll_interval_s=0.05,
    )
    published = next(t for t in server.exchange.data.trades if t.symbol_id == "BTCUSDT")

    def delivered_all() -> bool:
        return len(received) == published.cursor

    task = asyncio.create_task(feed.run(), name="trade-feed-emulator")
    try:
        await wait_until(lambda: subscribed(server))
        server.step(2)
        await wait_until(lambda: published.cursor > 0 and delivered_all())
        assert feed.is_socket_up(BTC)
        server.set_fault("ws_drop", "0")
        await wait_until(lambda: feed.counters.reconnects[BTC] >= 1)
        server.step(2)  # traded while the socket is down (or resubscribing)
        await wait_until(delivered_all)
        await wait_until(lambda: subscribed(server))
        server.step(3)
        await wait_until(lambda: delivered_all() and feed.is_socket_up(BTC))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert [t.trade_id for t in received] == [str(i + 1) for i in range(published.cursor)]
    assert feed.counters.rest_trades[BTC] >= 1  # REST covered what the socket missed
    assert feed.counters.late[BTC] == 0
    assert server.stats()["requests"]["GET /fapi/v1/trades"] >= 1
    assert server.stats()["unhandled_count"] == 0
