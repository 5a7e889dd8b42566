"""Resample candles to a longer timeframe: open-time labelled, epoch aligned, no invented bars."""

from __future__ import annotations

import numpy as np

from aegis.data.candles import Candles
from aegis.data.timeframes import format_timeframe
from aegis.model.errors import DataError


def resample(candles: Candles, timeframe_ms: int, *, offset_ms: int = 0) -> Candles:
    """Aggregate ``candles`` into buckets of ``timeframe_ms`` labelled by their open time.

    Buckets start at ``offset_ms + k * timeframe_ms`` from the epoch (use ``offset_ms`` =
    4 days for weeks that open on Monday). Over gaps: open is the first existing candle's open,
    high the max, low the min, close the last close, volume the sum (NaN if any source volume is
    NaN). A bucket without any source candle is not produced.

    Raises:
        ValueError: the target timeframe is not positive or not a multiple of the source's.
        DataError: timestamps are not strictly increasing.
    """
    if timeframe_ms <= 0:
        raise ValueError(f"timeframe_ms must be positive, got {timeframe_ms}")
    source_ms = candles.timeframe_ms
    if source_ms is not None and timeframe_ms % source_ms != 0:
        raise ValueError(
            f"cannot resample {format_timeframe(source_ms)} candles to "
            f"{format_timeframe(timeframe_ms)}: not a whole multiple"
        )
    ts = candles.ts_ms
    if len(candles) == 0:
        return Candles.empty(symbol=candles.symbol, timeframe_ms=timeframe_ms)
    steps = np.diff(ts)
    if (steps <= 0).any():
        index = int(np.argmax(steps <= 0)) + 1
        raise DataError(
            f"{candles.source or 'candles'}: cannot resample: timestamp {ts[index]} at row "
            f"{index + 1} does not increase (previous {ts[index - 1]})"
        )
    bucket = ts - (ts - offset_ms) % timeframe_ms
    starts = np.concatenate(([0], np.flatnonzero(np.diff(bucket)) + 1))
    ends = np.concatenate((starts[1:], [len(candles)])) - 1
    return Candles(
        ts_ms=bucket[starts],
        open=candles.open[starts],
        high=np.maximum.reduceat(candles.high, starts),
        low=np.minimum.reduceat(candles.low, starts),
        close=candles.close[ends],
        volume=np.add.reduceat(candles.volume, starts),
        symbol=candles.symbol,
        timeframe_ms=timeframe_ms,
        source=candles.source,
    )
