"""Funding charged to held positions at the replayed funding times (OR3), through ccxt."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import ccxt.pro as ccxt_pro
import pytest

from aegis.data import read_candles, read_funding
from aegis.venues.emulator import AccountSpec, EmulatorConfig, configure_ccxt
from aegis.venues.emulator.server import EmulatorServer

from .conftest import SYMBOL
from .helpers import user_sockets, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

CANDLES = "binance-usdm_XRP-USDT-PERP_5m.csv.gz"
FUNDING = "binance-usdm_XRP-USDT-PERP_8h-funding.csv.gz"
KEY, SECRET = "funding-key", "funding-secret"
# The first funding of the file (2021-11-18 00:00:00.017) falls on 5m candle 864 of the candle
# file; the replay starts a few candles before it.
FIRST_FUNDING_CANDLE = 864
HISTORY = FIRST_FUNDING_CANDLE - 4


@pytest.fixture
async def server(bundled_data_dir: Path) -> AsyncIterator[EmulatorServer]:
    config = EmulatorConfig(
        data_files=(bundled_data_dir / CANDLES, bundled_data_dir / FUNDING),
        accounts=(AccountSpec(KEY, SECRET, balance=Decimal(10000)),),
        history_candles=HISTORY,
    )
    emulator = EmulatorServer(config)
    await emulator.start()
    yield emulator
    await emulator.stop()


@pytest.fixture
async def client(server: EmulatorServer) -> AsyncIterator[ccxt_pro.binanceusdm]:
    exchange = configure_ccxt(
        ccxt_pro.binanceusdm({"apiKey": KEY, "secret": SECRET}), server.base_url
    )
    yield exchange
    await exchange.close()


def wallet(balance: dict[str, object]) -> Decimal:
    return Decimal(str(balance["info"]["totalWalletBalance"]))  # type: ignore[index]


@pytest.mark.parametrize(("side", "sign"), [("buy", 1), ("sell", -1)])
async def test_funding_is_charged_to_a_held_position(
    server: EmulatorServer,
    client: ccxt_pro.binanceusdm,
    bundled_data_dir: Path,
    side: str,
    sign: int,
) -> None:
    candles = read_candles(bundled_data_dir / CANDLES)
    funding = read_funding(bundled_data_dir / FUNDING)
    assert int(candles.ts_ms[FIRST_FUNDING_CANDLE]) == int(funding.ts_ms[0]) // 1000 * 1000
    await client.load_markets()
    await client.create_order(SYMBOL, "market", side, 100)
    server.step()  # fills at the open of candle HISTORY
    assert (await client.fetch_positions([SYMBOL]))[0]["contracts"] == 100
    server.step(3)  # candles up to FIRST_FUNDING_CANDLE - 1: no funding yet
    before = await client.fetch_balance()
    assert await client.fetch_funding_history(SYMBOL) == []
    balance_task = asyncio.create_task(client.watch_balance())
    await wait_until(lambda: user_sockets(server) == 1)
    server.step()  # candle FIRST_FUNDING_CANDLE opens at the funding time: funding settles
    pushed = await asyncio.wait_for(balance_task, 5)
    after = await client.fetch_balance()
    # Binance: positive rate -> longs pay shorts; notional at the mark (the last close).
    rate = Decimal(repr(float(funding.rate[0])))
    mark = Decimal(repr(float(candles.close[FIRST_FUNDING_CANDLE - 1])))
    expected = -rate * sign * 100 * mark
    assert rate > 0
    assert wallet(after) - wallet(before) == expected
    assert pushed["info"]["a"]["m"] == "FUNDING_FEE"
    assert Decimal(str(pushed["USDT"]["total"])) == wallet(after)
    history = await client.fetch_funding_history(SYMBOL)
    assert [(h["symbol"], h["code"], h["timestamp"]) for h in history] == [
        (SYMBOL, "USDT", int(funding.ts_ms[0]))
    ]
    assert Decimal(str(history[0]["amount"])) == expected
    assert server.stats()["unhandled_count"] == 0


async def test_no_funding_without_a_position(
    server: EmulatorServer, client: ccxt_pro.binanceusdm
) -> None:
    await client.load_markets()
    before = await client.fetch_balance()
    server.step(6)  # across the funding time, flat
    after = await client.fetch_balance()
    assert wallet(after) == wallet(before) == 10000
    assert await client.fetch_funding_history(SYMBOL) == []
