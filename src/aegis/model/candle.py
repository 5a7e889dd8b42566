"""A single OHLCV candle as market data (floats: market data is float, orders are Decimal)."""

from __future__ import annotations

from dataclasses import dataclass

from aegis.model._slots import slot_setters


@dataclass(frozen=True, slots=True, init=False)
class Candle:
    """One candle; ``ts_ms`` is the candle's open time in UTC milliseconds."""

    ts_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float

    # Written out: the generated frozen __init__ goes through object.__setattr__ per field and
    # costs twice as much; a streaming strategy builds one Candle per bar.
    def __init__(
        self, ts_ms: int, open: float, high: float, low: float, close: float, volume: float
    ) -> None:
        _set_ts_ms(self, ts_ms)
        _set_open(self, open)
        _set_high(self, high)
        _set_low(self, low)
        _set_close(self, close)
        _set_volume(self, volume)


_set_ts_ms, _set_open, _set_high, _set_low, _set_close, _set_volume = slot_setters(
    Candle, "ts_ms", "open", "high", "low", "close", "volume"
)
