"""Fixtures for the feed tests: a virtual clock and real candles."""

from __future__ import annotations

import pytest

from aegis.data import bundled_data_path, read_candles
from aegis.data.feeds import VirtualClock
from aegis.model.candle import Candle


@pytest.fixture(scope="session")
def xrp_candles() -> list[Candle]:
    """The first 200 real XRP/USDT perpetual 5m candles (bundled Binance data)."""
    candles = read_candles(bundled_data_path("binance-usdm_XRP-USDT-PERP_5m.csv.gz"))
    return [candles.row(i) for i in range(200)]


@pytest.fixture
def clock(xrp_candles: list[Candle]) -> VirtualClock:
    # Start when the 3rd candle has just closed: the socket's first push is that candle.
    return VirtualClock(start_ms=xrp_candles[2].ts_ms + 300_000)
