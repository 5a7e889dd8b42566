"""Fixtures for the indicator tests: real OHLCV arrays."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ._support import Ohlcv, load_ohlcv

# Files chosen for variety: a low-priced pair (ETH/BTC ~0.1), BTC/USDT ~20k, and 45k FTX bars.
REAL_FILES = (
    "bittrex_ETH-BTC_5m.csv.gz",
    "unknown_BTC-USDT_5m.csv.gz",
    "ftx_BTC-PERP_1m.csv.gz",
)


@pytest.fixture(scope="session", params=REAL_FILES)
def real_ohlcv(request: pytest.FixtureRequest, real_data_dir: Path) -> Ohlcv:
    """One real candle file as arrays: timestamp_ms, open, high, low, close, volume."""
    name: str = request.param
    return load_ohlcv(real_data_dir / name)


@pytest.fixture(scope="session")
def ohlcv_loader(real_data_dir: Path) -> Callable[[str], Ohlcv]:
    """Load any real candle file by name."""
    return lambda name: load_ohlcv(real_data_dir / name)
