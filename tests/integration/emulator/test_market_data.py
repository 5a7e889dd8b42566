"""Public market data through unmodified ccxt.async_support.binanceusdm."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from aegis.venues.emulator.server import EmulatorServer

from .conftest import HISTORY, SYMBOL

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


def _file_rows(path: Path) -> list[list[str]]:
    with gzip.open(path, "rt") as handle:
        return [line.strip().split(",") for line in handle.readlines()[1:]]


async def test_load_markets_serves_real_filters_of_xrpusdt(client, server) -> None:
    markets = await client.load_markets()
    market = markets[SYMBOL]
    # real exchangeInfo: tick 0.0001, step 0.1, min notional 5
    assert market["precision"]["price"] == pytest.approx(0.0001)
    assert market["precision"]["amount"] == pytest.approx(0.1)
    assert market["limits"]["cost"]["min"] == pytest.approx(5)
    assert "BTC/USDT:USDT" in markets
    assert server.stats()["unhandled_count"] == 0


async def test_fetch_ohlcv_returns_closed_file_candles_and_grows_by_one_per_step(
    client, server: EmulatorServer, xrp_file: Path
) -> None:
    rows = _file_rows(xrp_file)
    candles = await client.fetch_ohlcv(SYMBOL, "5m", limit=1000)
    assert len(candles) == HISTORY
    assert candles[0][0] == int(rows[0][0])
    assert candles[-1][4] == pytest.approx(float(rows[HISTORY - 1][4]))
    server.step(3)
    candles = await client.fetch_ohlcv(SYMBOL, "5m", limit=2)
    assert [c[0] for c in candles] == [int(rows[HISTORY + 1][0]), int(rows[HISTORY + 2][0])]
    since = await client.fetch_ohlcv(SYMBOL, "5m", since=int(rows[10][0]), limit=5)
    assert [c[0] for c in since] == [int(r[0]) for r in rows[10:15]]


async def test_ticker_and_order_book_follow_the_last_close(client, server, xrp_file) -> None:
    rows = _file_rows(xrp_file)
    ticker = await client.fetch_ticker(SYMBOL)
    last = float(rows[HISTORY - 1][4])
    assert ticker["last"] == pytest.approx(last)
    book = await client.fetch_order_book(SYMBOL, 5)
    assert book["bids"][0][0] == pytest.approx(last - 0.0001)
    assert book["asks"][0][0] == pytest.approx(last + 0.0001)
    assert len(book["bids"]) == 5
    server.step()
    ticker = await client.fetch_ticker(SYMBOL)
    assert ticker["last"] == pytest.approx(float(rows[HISTORY][4]))


async def test_funding_rate_and_server_time(client) -> None:
    await client.load_markets()
    funding = await client.fetch_funding_rate(SYMBOL)
    # no funding file here: the emulator charges nothing, so it publishes nothing to settle
    assert funding["fundingRate"] == 0
    assert funding["markPrice"] > 0
    assert await client.fetch_time() > 0


async def test_unknown_path_answers_404_and_is_counted(client, server) -> None:
    await client.load_markets()
    with pytest.raises(Exception, match="UNHANDLED"):
        await client.sapi_get_capital_config_getall()
    assert server.stats()["unhandled"] == ["GET /sapi/v1/capital/config/getall"]
