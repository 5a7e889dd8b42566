"""Candles container, timeframes, file names and bundled files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aegis.data import (
    Candles,
    bundled_data_files,
    bundled_data_path,
    bundled_markets_path,
    format_timeframe,
    infer_timeframe,
    parse_file_name,
    parse_timeframe,
    read_candles,
)
from aegis.model.candle import Candle
from aegis.model.errors import DataError

ROWS = [(0, 1.0, 2.0, 0.5, 1.5, 3.0), (60_000, 1.5, 2.5, 1.0, 2.0, float("nan"))]


def test_from_rows_row_and_slice() -> None:
    candles = Candles.from_rows(ROWS, symbol="BTC/USDT", timeframe_ms=60_000)
    assert len(candles) == 2
    assert candles.ts_ms.dtype == np.int64
    assert candles.close.dtype == np.float64
    assert candles.row(0) == Candle(0, 1.0, 2.0, 0.5, 1.5, 3.0)
    assert candles.row(-1).ts_ms == 60_000
    tail = candles.slice(1, 2)
    assert len(tail) == 1
    assert tail.symbol == "BTC/USDT"
    assert tail.timeframe_ms == 60_000
    again = Candles.from_rows(list(candles.rows()))
    np.testing.assert_array_equal(again.volume, candles.volume)


def test_candles_are_read_only() -> None:
    candles = Candles.from_rows(ROWS)
    with pytest.raises(ValueError, match="read-only"):
        candles.close[0] = 9.0
    with pytest.raises(AttributeError):
        candles.symbol = "X"  # type: ignore[misc]


def test_columns_must_have_equal_length() -> None:
    with pytest.raises(ValueError, match="close has 1 values, ts_ms has 2"):
        Candles(np.array([0, 1]), np.ones(2), np.ones(2), np.ones(2), np.ones(1), np.ones(2))


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1m", 60_000),
        ("5m", 300_000),
        ("1h", 3_600_000),
        ("8h", 28_800_000),
        ("1d", 86_400_000),
        ("1w", 604_800_000),
        ("30s", 30_000),
    ],
)
def test_parse_and_format_timeframe(text: str, ms: int) -> None:
    assert parse_timeframe(text) == ms
    assert format_timeframe(ms) == text


@pytest.mark.parametrize("text", ["", "5", "m5", "0m", "1y", "-1m", "1.5h"])
def test_bad_timeframe_names_the_input(text: str) -> None:
    with pytest.raises(ValueError, match=f"invalid timeframe {text!r}"):
        parse_timeframe(text)


def test_format_timeframe_prefers_largest_unit() -> None:
    assert format_timeframe(7_200_000) == "2h"
    assert format_timeframe(90_000) == "90s"
    assert format_timeframe(1_500) == "1500ms"
    with pytest.raises(ValueError, match="got 0 ms"):
        format_timeframe(0)


def test_infer_timeframe_is_robust_to_gaps_and_duplicates(real_data_dir: Path) -> None:
    ts = np.array([0, 60, 60, 120, 600, 660, 720, 2000], dtype=np.int64) * 1000
    assert infer_timeframe(ts) == 60_000
    assert infer_timeframe(np.array([5], dtype=np.int64)) is None
    assert infer_timeframe(np.array([5, 5], dtype=np.int64)) is None
    gappy = read_candles(real_data_dir / "bittrex_POWR-BTC_1m.csv.gz")
    assert infer_timeframe(gappy.ts_ms) == 60_000


def test_parse_file_name() -> None:
    info = parse_file_name("binance-usdm_XRP-USDT-PERP_8h-funding.csv.gz")
    assert info is not None
    assert (info.exchange, info.symbol, info.timeframe_ms, info.kind) == (
        "binance-usdm",
        "XRP/USDT:USDT",
        28_800_000,
        "funding",
    )
    ftx = parse_file_name("ftx_BTC-PERP_1m.csv.gz")
    assert ftx is not None
    assert ftx.symbol == "BTC/USD:USD"
    trades = parse_file_name(Path("/x/kraken_XBT-USDT_trades.csv.gz"))
    assert trades is not None
    assert (trades.symbol, trades.kind) == ("XBT/USDT", "trades")
    assert parse_file_name("my_data.csv") is None


def test_bundled_files_exist_and_load() -> None:
    files = bundled_data_files()
    names = [p.name for p in files]
    assert "bittrex_ETH-BTC_5m.csv.gz" in names
    path = bundled_data_path("bittrex_ETH-BTC_5m.csv.gz")
    assert len(read_candles(path)) == 5760
    assert bundled_markets_path("binance-spot.json").is_file()


def test_unknown_bundled_file_lists_the_available_ones() -> None:
    with pytest.raises(DataError, match=r"no bundled data file 'nope.csv' \(available: .*bittrex"):
        bundled_data_path("nope.csv")
    with pytest.raises(DataError, match=r"no bundled markets file '\.\./data/x'"):
        bundled_markets_path("../data/x")


def test_container_does_not_freeze_the_callers_arrays() -> None:
    close = np.array([1.0, 2.0])
    candles = Candles(np.array([0, 1]), close, close, close, close, close)
    close[0] = 5.0
    assert close.flags.writeable
    assert not candles.close.flags.writeable
