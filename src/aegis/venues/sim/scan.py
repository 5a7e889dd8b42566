"""Vectorised search for the next candle where a resting order can trigger or fill.

The backtester asks this to skip quiet candles (ARCHITECTURE: "Fast backtests without a second
code path"). Windows grow geometrically, so a search that finds an event nearby costs little and
one that finds nothing costs O(n) once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from aegis.venues.sim._record import SimOrder

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
_FIRST_WINDOW = 64


def first_true(predicate: Callable[[int, int], BoolArray], start: int, stop: int) -> int | None:
    """Return the first index in ``[start, stop)`` where ``predicate(a, b)`` (a mask) is True."""
    window = _FIRST_WINDOW
    position = start
    while position < stop:
        end = min(stop, position + window)
        mask = predicate(position, end)
        hit = int(mask.argmax())
        if mask[hit]:
            return position + hit
        position = end
        window *= 4
    return None


def order_event_index(
    record: SimOrder,
    high: FloatArray,
    low: FloatArray,
    start: int,
    stop: int,
    *,
    touch: bool,
) -> int | None:
    """Return the first candle in ``[start, stop)`` where ``record`` can trigger or fill."""
    if record.is_triggered and (record.is_market or not record.has_arrived):
        # Market orders fill on their first candle; a limit meets the market on its first
        # candle (marketable -> taker, IOC / FOK -> fill or expire, else it starts resting,
        # which decides maker vs taker later), so that candle must not be skipped.
        return start if start < stop else None
    if not record.is_triggered:
        stop_price = record.stop_price_float
        if record.trigger_up:
            return first_true(lambda a, b: high[a:b] >= stop_price, start, stop)
        return first_true(lambda a, b: low[a:b] <= stop_price, start, stop)
    limit = record.limit_price_float
    if record.is_buy:
        if touch:
            return first_true(lambda a, b: low[a:b] <= limit, start, stop)
        return first_true(lambda a, b: low[a:b] < limit, start, stop)
    if touch:
        return first_true(lambda a, b: high[a:b] >= limit, start, stop)
    return first_true(lambda a, b: high[a:b] > limit, start, stop)


def funding_event_index(ts_ms: npt.NDArray[np.int64], due_ms: int, start: int) -> int | None:
    """Return the candle to visit for the next funding time ``due_ms`` (at/after ``start``).

    That is the last candle opening before it (its close is the mark), then the candle at it
    (where the funding settles).
    """
    index = int(np.searchsorted(ts_ms, due_ms, side="left"))
    if index - 1 >= start:
        return index - 1
    return index if index < ts_ms.shape[0] else None
