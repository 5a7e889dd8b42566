"""Reading and writing market data files: real files load, bad input names file, line, problem."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from aegis.data import (
    SIDE_BUY,
    SIDE_SELL,
    SIDE_UNKNOWN,
    Candles,
    read_candles,
    read_funding,
    read_trades,
    write_parquet,
)
from aegis.model.errors import DataError

HEADER = "timestamp_ms,open,high,low,close,volume"
GOOD_ROWS = [
    "1516000000000,1.0,1.2,0.9,1.1,10",
    "1516000060000,1.1,1.3,1.0,1.2,11",
    "1516000120000,1.2,1.25,1.1,1.15,",
]


def _write(tmp_path: Path, lines: list[str], name: str = "candles.csv") -> Path:
    path = tmp_path / name
    text = "\n".join(lines) + "\n"
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def test_every_real_candle_file_loads_strictly(real_candle_files: list[Path]) -> None:
    assert len(real_candle_files) >= 25
    for path in real_candle_files:
        candles = read_candles(path)
        assert len(candles) > 0, path
        assert np.all(np.diff(candles.ts_ms) > 0), path
        assert candles.timeframe_ms is not None, path


def test_real_file_metadata_comes_from_the_name(real_data_dir: Path) -> None:
    candles = read_candles(real_data_dir / "binance-usdm_XRP-USDT-PERP_8h.csv.gz")
    assert candles.symbol == "XRP/USDT:USDT"
    assert candles.timeframe_ms == 8 * 3_600_000
    assert len(candles) == 91
    assert candles.source is not None
    assert candles.source.endswith("binance-usdm_XRP-USDT-PERP_8h.csv.gz")


def test_explicit_symbol_wins(real_data_dir: Path) -> None:
    candles = read_candles(real_data_dir / "bittrex_ETH-BTC_5m.csv.gz", symbol="ETH/BTC:X")
    assert candles.symbol == "ETH/BTC:X"


def test_empty_volume_is_nan_not_dropped(real_data_dir: Path, tmp_path: Path) -> None:
    mark = read_candles(real_data_dir / "unknown_XRP-USDT-PERP_1h-mark.csv.gz")
    assert len(mark) == 100
    assert np.isnan(mark.volume).all()
    candles = read_candles(_write(tmp_path, [HEADER, *GOOD_ROWS]))
    assert len(candles) == 3
    assert np.isnan(candles.volume[2])
    assert candles.volume[0] == 10.0


def test_gzip_and_plain_csv_give_the_same_candles(tmp_path: Path) -> None:
    plain = read_candles(_write(tmp_path, [HEADER, *GOOD_ROWS], "a.csv"))
    zipped = read_candles(_write(tmp_path, [HEADER, *GOOD_ROWS], "a.csv.gz"))
    for name in ("ts_ms", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(plain, name), getattr(zipped, name))


def test_parquet_round_trip_keeps_values_symbol_and_timeframe(
    real_data_dir: Path, tmp_path: Path
) -> None:
    original = read_candles(real_data_dir / "unknown_XRP-USDT-PERP_1h-mark.csv.gz")
    target = write_parquet(original, tmp_path / "mark.parquet")
    back = read_candles(target)
    assert back.symbol == "XRP/USDT:USDT"
    assert back.timeframe_ms == 3_600_000
    for name in ("ts_ms", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(back, name), getattr(original, name))
    assert not list(tmp_path.glob(".*partial"))


@pytest.mark.parametrize(
    ("lines", "line_number", "problem"),
    [
        (
            [HEADER, GOOD_ROWS[0], "1516000060000,1.1,abc,1.0,1.2,11"],
            3,
            "high 'abc' is not a number",
        ),
        ([HEADER, GOOD_ROWS[0], "1516000060000,1.1,1.3,1.0,,11"], 3, "empty close"),
        ([HEADER, "15160000.5,1.0,1.2,0.9,1.1,10"], 2, "not an integer"),
        ([HEADER, GOOD_ROWS[0], "1516000060000,1.1,1.3,1.0"], 3, "expected 6 fields, found 4"),
        ([HEADER, GOOD_ROWS[0], "1516000060000,1.1,0.9,1.0,1.0,1"], 3, "high 0.9 below low 1.0"),
        (
            [HEADER, "1516000000000,1.0,1.05,0.9,1.1,10"],
            2,
            "high 1.05 below max(open 1.0, close 1.1)",
        ),
        ([HEADER, "1516000000000,1.0,1.2,1.05,1.1,10"], 2, "low 1.05 above min(open 1.0"),
        ([HEADER, "1516000000000,0,1.2,0.0,1.1,10"], 2, "non-positive open 0.0"),
        ([HEADER, "1516000000000,1.0,1.2,0.9,1.1,-5"], 2, "negative volume -5.0"),
        ([HEADER, "1516000000000,1.0,1.2,0.9,nan,5"], 2, "close nan is not a finite number"),
        (
            [HEADER, *GOOD_ROWS[:2], "1516000000000,1.0,1.2,0.9,1.1,10"],
            4,
            "timestamp 1516000000000 goes backwards (previous row has 1516000060000)",
        ),
        (
            [HEADER, *GOOD_ROWS[:2], GOOD_ROWS[1]],
            4,
            "duplicate timestamp 1516000060000",
        ),
    ],
)
def test_bad_rows_name_file_line_and_problem(
    tmp_path: Path, lines: list[str], line_number: int, problem: str
) -> None:
    for name in ("bad.csv", "bad.csv.gz"):
        path = _write(tmp_path, lines, name)
        with pytest.raises(DataError) as caught:
            read_candles(path)
        message = str(caught.value)
        assert str(path) in message
        assert f"line {line_number}:" in message
        assert problem in message


def test_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    lines = [HEADER, GOOD_ROWS[0], "", GOOD_ROWS[1], GOOD_ROWS[1]]
    with pytest.raises(DataError, match="line 5: duplicate timestamp"):
        read_candles(_write(tmp_path, lines))


def test_first_bad_row_is_reported_when_several_are_bad(tmp_path: Path) -> None:
    lines = [HEADER, GOOD_ROWS[0], "1516000060000,1.1,0.9,1.0,1.0,1", GOOD_ROWS[0]]
    with pytest.raises(DataError, match=r"line 3: high 0\.9 below low"):
        read_candles(_write(tmp_path, lines))


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, ["timestamp_ms,open,high,low,close", "1516000000000,1,1,1,1"])
    with pytest.raises(DataError, match=r"line 1: missing column 'volume'") as caught:
        read_candles(path)
    assert str(path) in str(caught.value)


def test_missing_file_and_empty_file_are_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_candles(tmp_path / "absent.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty file"):
        read_candles(tmp_path / "empty.csv")


def test_header_only_gives_empty_candles(tmp_path: Path) -> None:
    candles = read_candles(_write(tmp_path, [HEADER]))
    assert len(candles) == 0


def test_lenient_read_keeps_duplicates_and_out_of_order_rows(tmp_path: Path) -> None:
    lines = [HEADER, GOOD_ROWS[1], GOOD_ROWS[0], GOOD_ROWS[0]]
    candles = read_candles(_write(tmp_path, lines), strict=False)
    assert len(candles) == 3
    assert candles.ts_ms.tolist() == [1516000060000, 1516000000000, 1516000000000]


def test_lenient_read_still_rejects_unreadable_values(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="line 2: open 'x' is not a number"):
        read_candles(_write(tmp_path, [HEADER, "1516000000000,x,1,1,1,1"]), strict=False)


def test_parquet_errors_name_the_row(tmp_path: Path) -> None:
    bad = Candles.from_rows([(1000, 1.0, 1.0, 1.0, 1.0, 1.0), (1000, 1.0, 1.0, 1.0, 1.0, 1.0)])
    path = write_parquet(bad, tmp_path / "dup.parquet")
    with pytest.raises(DataError, match=r"dup.parquet: row 2: duplicate timestamp 1000"):
        read_candles(path)


def test_parquet_missing_column_is_named(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "x.parquet"
    pq.write_table(pa.table({"timestamp_ms": [1], "open": [1.0]}), path)
    with pytest.raises(DataError, match="missing column 'high', 'low', 'close', 'volume'"):
        read_candles(path)


def test_real_trades_load_with_sides(real_data_dir: Path) -> None:
    trades = read_trades(real_data_dir / "binance_BTC-USDT_trades.csv.gz")
    assert len(trades) == 2001
    assert int((trades.side == SIDE_BUY).sum()) == 1087
    assert int((trades.side == SIDE_SELL).sum()) == 914
    kraken = read_trades(real_data_dir / "kraken_BCH-EUR_trades.csv.gz")
    assert len(kraken) == 634
    assert (kraken.side == SIDE_UNKNOWN).all()
    assert kraken.side_name(0) is None
    assert trades.side_name(int(np.argmax(trades.side == SIDE_BUY))) == "buy"


def test_every_real_trade_file_loads(real_data_dir: Path) -> None:
    expected = {
        "binance_XRP-ETH_trades.csv.gz": 12477,
        "unknown_ETH-USDT_trades.csv.gz": 1000,
        "kraken_XBT-USDT_trades.csv.gz": 1000,
    }
    for name, rows in expected.items():
        assert len(read_trades(real_data_dir / name)) == rows


def test_trades_allow_equal_timestamps_but_not_backwards(tmp_path: Path) -> None:
    header = "timestamp_ms,price,quantity,side"
    ok = _write(tmp_path, [header, "1000,1.5,2,buy", "1000,1.6,1,sell", "1001,1.6,1,"], "t.csv")
    assert read_trades(ok).side.tolist() == [SIDE_BUY, SIDE_SELL, SIDE_UNKNOWN]
    bad = _write(tmp_path, [header, "1000,1.5,2,buy", "999,1.6,1,sell"], "t2.csv")
    with pytest.raises(DataError, match="line 3: timestamp 999 goes backwards"):
        read_trades(bad)
    side = _write(tmp_path, [header, "1000,1.5,2,BUYER"], "t3.csv")
    with pytest.raises(DataError, match="line 2: side 'BUYER' is not buy, sell or empty"):
        read_trades(side)
    quantity = _write(tmp_path, [header, "1000,1.5,0,buy"], "t4.csv")
    with pytest.raises(DataError, match=r"line 2: non-positive quantity 0\.0"):
        read_trades(quantity)


def test_real_funding_loads(real_data_dir: Path, tmp_path: Path) -> None:
    funding = read_funding(real_data_dir / "binance-usdm_XRP-USDT-PERP_8h-funding.csv.gz")
    assert len(funding) == 91
    assert int((funding.rate == 0.0001).sum()) == 70
    assert funding.rate.min() == pytest.approx(-0.00219334)
    dup = _write(tmp_path, ["timestamp_ms,funding_rate", "1000,0.0001", "1000,0.0002"], "f.csv")
    with pytest.raises(DataError, match="line 3: duplicate timestamp 1000"):
        read_funding(dup)


def test_header_names_may_have_spaces(tmp_path: Path) -> None:
    path = _write(tmp_path, ["timestamp_ms, open ,high,low,close,volume", GOOD_ROWS[0]])
    assert read_candles(path).open.tolist() == [1.0]
