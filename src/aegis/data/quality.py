"""Data quality report for a candle series: gaps, duplicates, ordering, grid, flat and outliers.

Works on candles read leniently (``read_candles(path, strict=False)``) so that it can count the
problems a strict read would stop at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from aegis.data.candles import Candles
from aegis.data.timeframes import format_timeframe, infer_timeframe

DEFAULT_MAX_JUMP: Final = 0.10
DEFAULT_MAX_RANGE: Final = 0.15


@dataclass(frozen=True, slots=True)
class Gap:
    """``missing`` candles absent right after the candle that opened at ``after_ms``."""

    after_ms: int
    missing: int


@dataclass(frozen=True, slots=True)
class Outlier:
    """A candle whose close-to-close move (``kind="jump"``) or range (``"range"``) is large."""

    ts_ms: int
    kind: str
    size: float  # signed fraction for a jump, (high - low) / low for a range


@dataclass(frozen=True, slots=True)
class CandleReport:
    """What `check_candles` found. Flat candles are informational; the rest make it unclean."""

    file: str | None
    rows: int
    first_ms: int | None
    last_ms: int | None
    timeframe_ms: int | None
    missing: int
    gaps: tuple[Gap, ...]
    duplicates: int
    out_of_order: int
    off_grid: int
    invalid: int
    flat: int
    zero_volume: int
    no_volume: int
    outliers: tuple[Outlier, ...] = field(default=())

    @property
    def is_clean(self) -> bool:
        """True when nothing but flat or volume-less candles was found."""
        return not (
            self.missing
            or self.duplicates
            or self.out_of_order
            or self.off_grid
            or self.invalid
            or self.zero_volume
            or self.outliers
        )

    @property
    def largest_gap(self) -> Gap | None:
        """The gap with most missing candles (the earliest on a tie), or None."""
        return max(self.gaps, key=lambda gap: gap.missing, default=None)

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-safe dict (the `aegis data check --json` object)."""
        return {
            "file": self.file,
            "rows": self.rows,
            "first_ms": self.first_ms,
            "last_ms": self.last_ms,
            "timeframe": None if self.timeframe_ms is None else format_timeframe(self.timeframe_ms),
            "timeframe_ms": self.timeframe_ms,
            "missing": self.missing,
            "gaps": [{"after_ms": g.after_ms, "missing": g.missing} for g in self.gaps],
            "duplicates": self.duplicates,
            "out_of_order": self.out_of_order,
            "off_grid": self.off_grid,
            "invalid": self.invalid,
            "flat": self.flat,
            "zero_volume": self.zero_volume,
            "no_volume": self.no_volume,
            "outliers": [
                {"ts_ms": o.ts_ms, "kind": o.kind, "size": round(o.size, 6)} for o in self.outliers
            ],
            "clean": self.is_clean,
        }


def find_gaps(ts_ms: npt.NDArray[np.int64], timeframe_ms: int) -> list[Gap]:
    """Return the gaps in sorted, unique, on-grid timestamps (EX4: continuity check)."""
    if timeframe_ms <= 0:
        raise ValueError(f"timeframe_ms must be positive, got {timeframe_ms}")
    ts = np.asarray(ts_ms, dtype=np.int64)
    steps = np.diff(ts)
    where = np.flatnonzero(steps > timeframe_ms)
    missing = steps[where] // timeframe_ms - 1
    return [
        Gap(int(ts[i]), int(m)) for i, m in zip(where.tolist(), missing.tolist(), strict=True) if m
    ]


def _grid(ts: npt.NDArray[np.int64], timeframe_ms: int) -> npt.NDArray[np.bool_]:
    # the grid's phase is the most common remainder, so weekly candles opening on Mondays
    # (the epoch is a Thursday) or a feed offset by a constant are not all "off grid"
    remainder = ts % timeframe_ms
    if remainder.shape[0] == 0 or (remainder == remainder[0]).all():
        # the common case, without a sort
        return np.ones(remainder.shape[0], dtype=np.bool_)
    values, counts = np.unique(remainder, return_counts=True)
    phase = values[int(np.argmax(counts))]
    on_grid: npt.NDArray[np.bool_] = remainder == phase
    return on_grid


def _outliers(
    candles: Candles, order: npt.NDArray[np.intp], max_jump: float, max_range: float
) -> list[Outlier]:
    ts, close = candles.ts_ms[order], candles.close[order]
    high, low = candles.high[order], candles.low[order]
    found: list[Outlier] = []
    with np.errstate(divide="ignore", invalid="ignore"):
        jump = np.concatenate(([0.0], close[1:] / close[:-1] - 1.0))
        spread = (high - low) / low
    for i in np.flatnonzero(np.abs(jump) > max_jump).tolist():
        found.append(Outlier(int(ts[i]), "jump", float(jump[i])))
    for i in np.flatnonzero(spread > max_range).tolist():
        found.append(Outlier(int(ts[i]), "range", float(spread[i])))
    found.sort(key=lambda o: (o.ts_ms, o.kind))
    return found


def _invalid(c: Candles) -> int:
    prices = np.stack((c.open, c.high, c.low, c.close))
    bad = ~np.isfinite(prices).all(axis=0) | (prices <= 0).any(axis=0)
    bad |= (c.high < c.low) | (c.high < np.maximum(c.open, c.close))
    bad |= c.low > np.minimum(c.open, c.close)
    bad |= np.isinf(c.volume) | (c.volume < 0)
    return int(bad.sum())


def check_candles(
    candles: Candles,
    timeframe_ms: int | None = None,
    *,
    file: str | None = None,
    max_jump: float = DEFAULT_MAX_JUMP,
    max_range: float = DEFAULT_MAX_RANGE,
) -> CandleReport:
    """Report on a candle series; ``timeframe_ms`` defaults to the series' most common step.

    ``max_jump`` is the absolute close-to-close move and ``max_range`` the (high - low) / low of
    one candle above which the candle is reported as an outlier.
    """
    ts = candles.ts_ms
    rows = len(candles)
    steps = np.diff(ts)
    if (steps > 0).all():
        # already strictly increasing (every strictly read file): skip the sorts
        order = np.arange(rows)
        sorted_ts = unique_ts = ts
    else:
        order = np.argsort(ts, kind="stable")
        sorted_ts = ts[order]
        unique_ts = np.unique(sorted_ts)
    if timeframe_ms is None:
        timeframe_ms = infer_timeframe(unique_ts)
    gaps: list[Gap] = []
    off_grid = 0
    if timeframe_ms is not None and rows:
        on_grid = _grid(unique_ts, timeframe_ms)
        off_grid = int((~_grid(sorted_ts, timeframe_ms)).sum()) if not on_grid.all() else 0
        gaps = find_gaps(unique_ts[on_grid], timeframe_ms)
    return CandleReport(
        file=file if file is not None else candles.source,
        rows=rows,
        first_ms=int(sorted_ts[0]) if rows else None,
        last_ms=int(sorted_ts[-1]) if rows else None,
        timeframe_ms=timeframe_ms,
        missing=sum(g.missing for g in gaps),
        gaps=tuple(gaps),
        duplicates=rows - int(unique_ts.shape[0]),
        out_of_order=int((steps < 0).sum()),
        off_grid=off_grid,
        invalid=_invalid(candles),
        flat=int(
            (
                (candles.open == candles.high)
                & (candles.high == candles.low)
                & (candles.low == candles.close)
            ).sum()
        ),
        zero_volume=int((candles.volume == 0).sum()),
        no_volume=int(np.isnan(candles.volume).sum()),
        outliers=tuple(_outliers(candles, order, max_jump, max_range)),
    )
