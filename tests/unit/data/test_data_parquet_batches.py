"""The Parquet reader decodes columns batch by batch: nulls, casts and row groups stay exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aegis.data import _tabular, read_candles
from aegis.model.errors import DataError


def _write(path: Path, rows: int, **overrides: object) -> Path:
    ts = 1_000 + 60_000 * np.arange(rows, dtype=np.int64)
    close = 100.0 + np.arange(rows) * 0.01
    columns: dict[str, object] = {
        "timestamp_ms": ts, "open": close, "high": close + 1, "low": close - 1, "close": close,
        "volume": np.arange(rows, dtype=np.float64),
    }  # fmt: skip
    columns.update(overrides)
    pq.write_table(pa.table(columns), path, row_group_size=7)
    return path


def test_many_row_groups_and_small_batches_read_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_tabular, "_PARQUET_BATCH_ROWS", 3)
    candles = read_candles(_write(tmp_path / "x.parquet", 50))
    assert len(candles) == 50
    assert np.array_equal(candles.volume, np.arange(50.0))
    assert candles.ts_ms[-1] == 1_000 + 60_000 * 49


def test_missing_volume_is_nan_and_narrow_types_are_widened(tmp_path: Path) -> None:
    volume = pa.array([1.0, None, 3.0, None], type=pa.float32())
    ts = pa.array([0, 60_000, 120_000, 180_000], type=pa.int32())
    path = _write(tmp_path / "n.parquet", 4, volume=volume, timestamp_ms=ts)
    candles = read_candles(path)
    assert candles.ts_ms.dtype == np.int64
    assert np.array_equal(candles.volume, [1.0, np.nan, 3.0, np.nan], equal_nan=True)


def test_a_missing_price_names_its_row(tmp_path: Path) -> None:
    close = pa.array([100.0] * 9 + [None] + [100.0] * 2)
    path = _write(tmp_path / "c.parquet", 12, close=close)
    with pytest.raises(DataError, match=r"c.parquet: row 10: empty close"):
        read_candles(path)


def test_a_text_price_column_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.parquet", 3, open=pa.array(["a", "b", "c"]))
    with pytest.raises(DataError, match=r"t.parquet: column 'open'"):
        read_candles(path)
