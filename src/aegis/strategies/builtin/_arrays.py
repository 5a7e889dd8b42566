"""Array helpers shared by the vectorised built-ins."""

from __future__ import annotations

import numpy as np

from ..base import BoolArray, FloatArray


def shift(values: FloatArray, by: int = 1) -> FloatArray:
    """``values`` delayed by ``by`` bars, NaN-padded at the start (value of bar i - by)."""
    out = np.full(len(values), np.nan)
    if by < len(values):
        out[by:] = values[: len(values) - by]
    return out


def shift_bool(values: BoolArray) -> BoolArray:
    """``values`` delayed by one bar, False at the start."""
    out = np.zeros(len(values), dtype=bool)
    out[1:] = values[:-1]
    return out
