"""Resampling: open-time labels, OHLCV over gaps, agreement with real 5m files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from aegis.data import Candles, read_candles, resample
from aegis.model.errors import DataError


def test_bittrex_1m_to_5m_matches_the_5m_file(real_data_dir: Path) -> None:
    one = read_candles(real_data_dir / "bittrex_ETH-BTC_1m.csv.gz")
    five = read_candles(real_data_dir / "bittrex_ETH-BTC_5m.csv.gz")
    mine = resample(one, 300_000)
    assert mine.timeframe_ms == 300_000
    common, mine_index, file_index = np.intersect1d(mine.ts_ms, five.ts_ms, return_indices=True)
    assert common.shape[0] > 2800
    np.testing.assert_array_equal(mine.close[mine_index], five.close[file_index])
    # the first overlapping bucket is only partly covered by the 1m file (data README)
    for name in ("high", "low"):
        np.testing.assert_array_equal(
            getattr(mine, name)[mine_index][1:], getattr(five, name)[file_index][1:]
        )
    np.testing.assert_allclose(mine.volume[mine_index][1:], five.volume[file_index][1:], rtol=1e-9)


def test_resample_5m_to_8h_reproduces_the_real_8h_file(real_data_dir: Path) -> None:
    five = read_candles(real_data_dir / "binance-usdm_XRP-USDT-PERP_5m.csv.gz")
    eight = read_candles(real_data_dir / "binance-usdm_XRP-USDT-PERP_8h.csv.gz")
    mine = resample(five, 8 * 3_600_000)
    common, a, b = np.intersect1d(mine.ts_ms, eight.ts_ms, return_indices=True)
    assert common.shape[0] >= 10
    # the 5m file ends at 22:30, so only the last common 8h bucket is partial
    for name in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(getattr(mine, name)[a][:-1], getattr(eight, name)[b][:-1])
    np.testing.assert_allclose(mine.volume[a][:-1], eight.volume[b][:-1], rtol=1e-12)
    assert mine.close[a][-1] != eight.close[b][-1]


def test_buckets_over_gaps_use_existing_candles_and_skip_empty_buckets() -> None:
    m = 60_000
    rows = [
        (0 * m, 10.0, 12.0, 9.0, 11.0, 1.0),
        (2 * m, 11.0, 15.0, 10.0, 14.0, 2.0),  # minute 1 missing
        (11 * m, 20.0, 21.0, 19.0, 20.5, 4.0),  # bucket 5..9 has no candle at all
        (14 * m, 20.5, 22.0, 18.0, 21.0, 8.0),
    ]
    out = resample(Candles.from_rows(rows, timeframe_ms=m), 5 * m)
    assert out.ts_ms.tolist() == [0, 10 * m]
    assert out.open.tolist() == [10.0, 20.0]
    assert out.high.tolist() == [15.0, 22.0]
    assert out.low.tolist() == [9.0, 18.0]
    assert out.close.tolist() == [14.0, 21.0]
    assert out.volume.tolist() == [3.0, 12.0]


def test_bucket_starts_mid_bucket_is_labelled_by_its_epoch_aligned_open() -> None:
    m = 60_000
    out = resample(Candles.from_rows([(3 * m, 1, 1, 1, 1, 1), (4 * m, 1, 2, 1, 2, 1)]), 5 * m)
    assert out.ts_ms.tolist() == [0]
    assert out.close.tolist() == [2.0]


def test_weekly_offset_moves_bucket_starts() -> None:
    day = 86_400_000
    candles = Candles.from_rows([(d * day, 1, 1, 1, 1, 1) for d in range(14)], timeframe_ms=day)
    assert resample(candles, 7 * day).ts_ms.tolist() == [0, 7 * day]
    monday = resample(candles, 7 * day, offset_ms=4 * day)
    assert monday.ts_ms.tolist() == [-3 * day, 4 * day, 11 * day]


def test_nan_volume_stays_nan() -> None:
    out = resample(
        Candles.from_rows([(0, 1, 1, 1, 1, float("nan")), (60_000, 1, 1, 1, 1, 1)]), 300_000
    )
    assert np.isnan(out.volume[0])


def test_resample_rejects_bad_targets_and_unsorted_input() -> None:
    candles = Candles.from_rows([(0, 1, 1, 1, 1, 1)], timeframe_ms=300_000)
    with pytest.raises(ValueError, match="cannot resample 5m candles to 7m"):
        resample(candles, 420_000)
    with pytest.raises(ValueError, match="must be positive"):
        resample(candles, 0)
    unsorted = Candles.from_rows([(60_000, 1, 1, 1, 1, 1), (0, 1, 1, 1, 1, 1)])
    with pytest.raises(DataError, match="timestamp 0 at row 2 does not increase"):
        resample(unsorted, 300_000)
    assert len(resample(Candles.empty(), 300_000)) == 0
