"""A single OHLCV candle as market data (floats: market data is float, orders are Decimal)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candle:
    """One candle; ``ts_ms`` is the candle's open time in UTC milliseconds."""

    ts_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float
