"""Quality report on real files: counts match the data README exactly."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from aegis.data import Candles, Gap, check_candles, find_gaps, read_candles


def _ms(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC).timestamp() * 1000)


# file: (rows, missing, gaps, largest gap, after (UTC) or None, flat)
README_TABLE = {
    "bittrex_ADA-BTC_5m.csv.gz": (5720, 40, 5, 33, "2018-01-15 11:55", None),
    "binance_ADA-BTC_1m.csv.gz": (21, 1430, 1, 1430, "2021-11-27 00:09", None),
    "bittrex_DASH-BTC_1m.csv.gz": (12444, 1954, 1493, 6, "2018-01-27 00:19", 4201),
    "bittrex_ETC-BTC_1m.csv.gz": (13783, 614, 537, 5, "2018-01-27 04:38", 2824),
    "bittrex_ETH-BTC_1m.csv.gz": (14397, 1, 1, 1, "2018-01-24 05:17", 101),
    "bittrex_POWR-BTC_1m.csv.gz": (11976, 2421, 1719, 9, "2018-01-28 16:38", 4024),
    "binance_XRP-ETH_1m.csv.gz": (2469, 1091, 676, 8, "2019-10-11 19:20", 963),
    "bittrex_TRX-BTC_5m.csv.gz": (5754, 6, 6, 1, None, None),
    "bittrex_ETH-BTC_5m.csv.gz": (5760, 0, 0, None, None, 0),
    "ftx_BTC-PERP_1m.csv.gz": (45031, 0, 0, None, None, 5),
    "kraken_XBT-USDT_1m.csv.gz": (721, 0, 0, None, None, 435),
}


@pytest.mark.parametrize("name", sorted(README_TABLE))
def test_gap_counts_match_the_data_readme(real_data_dir: Path, name: str) -> None:
    rows, missing, gap_count, largest, after, flat = README_TABLE[name]
    report = check_candles(read_candles(real_data_dir / name))
    assert report.rows == rows
    assert report.missing == missing
    assert len(report.gaps) == gap_count
    if largest is None:
        assert report.largest_gap is None
    else:
        assert report.largest_gap is not None
        assert report.largest_gap.missing == largest
        if after is not None:
            assert report.largest_gap.after_ms == _ms(after)
    if flat is not None:
        assert report.flat == flat
    assert report.duplicates == report.out_of_order == report.off_grid == report.invalid == 0


def test_kraken_has_216_zero_volume_candles_and_is_not_clean(real_data_dir: Path) -> None:
    report = check_candles(read_candles(real_data_dir / "kraken_XBT-USDT_1m.csv.gz"))
    assert report.zero_volume == 216
    assert not report.is_clean


def test_clean_file_is_clean(real_data_dir: Path) -> None:
    report = check_candles(read_candles(real_data_dir / "bittrex_ETH-BTC_5m.csv.gz"))
    assert report.is_clean
    assert report.timeframe_ms == 300_000
    assert report.first_ms == _ms("2018-01-10 04:55")
    assert report.last_ms == _ms("2018-01-30 04:50")


def test_flash_crash_is_reported_as_outlier_with_time_and_size(real_data_dir: Path) -> None:
    report = check_candles(read_candles(real_data_dir / "binance-usdm_XRP-USDT-PERP_8h.csv.gz"))
    crash = _ms("2021-12-04 00:00")
    kinds = {(o.ts_ms, o.kind): o.size for o in report.outliers}
    assert kinds[(crash, "jump")] == pytest.approx(0.7497 / 0.9213 - 1)
    assert kinds[(crash, "range")] == pytest.approx((0.9246 - 0.5764) / 0.5764)
    assert len(report.outliers) == 2


def test_readme_close_jumps_are_found_at_their_times(real_data_dir: Path) -> None:
    xlm = check_candles(read_candles(real_data_dir / "bittrex_XLM-BTC_5m.csv.gz"))
    assert [(o.ts_ms, o.kind) for o in xlm.outliers] == [
        (_ms("2018-01-15 14:10"), "jump"),
        (_ms("2018-01-15 14:10"), "range"),
    ]
    powr = check_candles(
        read_candles(real_data_dir / "bittrex_POWR-BTC_1m.csv.gz"), max_jump=0.07, max_range=1.0
    )
    assert [o.ts_ms for o in powr.outliers] == [_ms("2018-01-20 20:09")]


def test_mark_file_has_no_volume_but_is_clean(real_data_dir: Path) -> None:
    report = check_candles(read_candles(real_data_dir / "unknown_XRP-USDT-PERP_1h-mark.csv.gz"))
    assert report.no_volume == 100
    assert report.is_clean


def _candles(ts: list[int], close: list[float] | None = None) -> Candles:
    prices = close or [1.0] * len(ts)
    return Candles.from_rows(
        [(t, p, p * 1.01, p * 0.99, p, 1.0) for t, p in zip(ts, prices, strict=True)]
    )


def test_duplicates_out_of_order_and_off_grid_are_counted() -> None:
    ts = [0, 60_000, 60_000, 180_000, 120_000, 245_000, 300_000]
    report = check_candles(_candles(ts))
    assert report.timeframe_ms == 60_000
    assert report.duplicates == 1
    assert report.out_of_order == 1
    assert report.off_grid == 1
    assert report.missing == 1
    assert report.gaps == (Gap(180_000, 1),)
    assert not report.is_clean


def test_given_timeframe_overrides_inference() -> None:
    report = check_candles(_candles([0, 300_000, 600_000]), 60_000)
    assert report.missing == 8
    assert report.gaps == (Gap(0, 4), Gap(300_000, 4))


def test_invalid_rows_are_counted() -> None:
    bad = Candles.from_rows([(0, 1.0, 0.5, 0.9, 1.0, 1.0), (60_000, 1.0, 1.1, 0.9, 1.0, -1.0)])
    assert check_candles(bad).invalid == 2


def test_find_gaps_on_plain_arrays() -> None:
    ts = np.array([0, 60_000, 240_000, 300_000, 420_000], dtype=np.int64)
    assert find_gaps(ts, 60_000) == [Gap(60_000, 2), Gap(300_000, 1)]
    with pytest.raises(ValueError, match="timeframe_ms must be positive"):
        find_gaps(ts, 0)


def test_to_json_has_the_issue_keys_and_is_json_safe(real_data_dir: Path) -> None:
    report = check_candles(read_candles(real_data_dir / "bittrex_ADA-BTC_5m.csv.gz"))
    data = report.to_json()
    for key in (
        "file",
        "rows",
        "missing",
        "gaps",
        "duplicates",
        "out_of_order",
        "zero_volume",
        "outliers",
        "flat",
        "off_grid",
        "first_ms",
        "last_ms",
        "timeframe",
    ):
        assert key in data
    assert data["gaps"][0].keys() == {"after_ms", "missing"}
    assert sum(g["missing"] for g in data["gaps"]) == 40
    json.dumps(data, allow_nan=False)


def test_empty_candles_report() -> None:
    report = check_candles(Candles.empty())
    assert report.rows == 0
    assert report.first_ms is None
    assert report.is_clean
