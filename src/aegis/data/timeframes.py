"""Timeframe strings ("1m", "4h", "1w") to milliseconds and back, and inference from data."""

from __future__ import annotations

import re
from typing import Final

import numpy as np
import numpy.typing as npt

_UNIT_MS: Final[dict[str, int]] = {
    "s": 1_000,
    "m": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
    "w": 604_800_000,
}
_PATTERN: Final = re.compile(r"^\s*([1-9][0-9]*)\s*([smhdw])\s*$")


def parse_timeframe(text: str) -> int:
    """Return the length of a timeframe such as ``"5m"``, ``"1h"``, ``"1d"`` in milliseconds.

    Raises:
        ValueError: the text is not ``<positive integer><s|m|h|d|w>``; the message names it.
    """
    match = _PATTERN.match(text)
    if match is None:
        raise ValueError(
            f"invalid timeframe {text!r}: expected a positive integer followed by one of "
            "s, m, h, d, w (e.g. 1m, 5m, 1h, 8h, 1d, 1w)"
        )
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def format_timeframe(timeframe_ms: int) -> str:
    """Return the shortest timeframe string for ``timeframe_ms`` (``300000`` -> ``"5m"``)."""
    if timeframe_ms <= 0:
        raise ValueError(f"timeframe must be positive, got {timeframe_ms} ms")
    for unit in ("w", "d", "h", "m", "s"):
        size = _UNIT_MS[unit]
        if timeframe_ms % size == 0:
            return f"{timeframe_ms // size}{unit}"
    return f"{timeframe_ms}ms"


def infer_timeframe(ts_ms: npt.NDArray[np.int64]) -> int | None:
    """Return the most common positive step between timestamps, or None with fewer than 2.

    The mode (not the minimum or mean) keeps the answer right when the series has gaps,
    duplicates or a few off-grid rows. Ties go to the smaller step.
    """
    if ts_ms.shape[0] < 2:
        return None
    steps = np.diff(np.asarray(ts_ms, dtype=np.int64))
    steps = steps[steps > 0]
    if steps.shape[0] == 0:
        return None
    values, counts = np.unique(steps, return_counts=True)
    return int(values[int(np.argmax(counts))])
