"""Helpers shared by the indicator tests: a tiny CSV reader and a tolerance-aware comparison."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Ohlcv = dict[str, FloatArray]


def load_ohlcv(path: Path) -> Ohlcv:
    """Tiny local reader (aegis.data is written concurrently); empty cells become NaN."""
    with gzip.open(path, "rt", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [[float(cell) if cell else np.nan for cell in row] for row in reader]
    table = np.array(rows, dtype=np.float64)
    return {name: table[:, index] for index, name in enumerate(header)}


def assert_agree(
    actual: FloatArray,
    expected: FloatArray,
    *,
    rel: float = 1e-9,
    scale: float | FloatArray = 0.0,
    same_nan: bool = True,
    label: str = "",
) -> int:
    """Assert ``|actual - expected| <= rel * max(|expected|, scale)`` wherever both are defined.

    ``same_nan`` also demands identical NaN positions. Returns the number of compared bars.
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, label
    if same_nan:
        mismatch = np.flatnonzero(np.isnan(actual) != np.isnan(expected))
        assert len(mismatch) == 0, f"{label}: NaN positions differ first at bar {mismatch[:5]}"
    both = ~np.isnan(actual) & ~np.isnan(expected)
    bound = rel * np.maximum(np.abs(expected), scale)
    error = np.abs(actual - expected)
    bad = np.flatnonzero(both & (error > bound))
    assert len(bad) == 0, (
        f"{label}: {len(bad)} bars differ, first at {bad[0]}: "
        f"{actual[bad[0]]!r} vs {expected[bad[0]]!r}"
        if len(bad)
        else ""
    )
    return int(both.sum())
