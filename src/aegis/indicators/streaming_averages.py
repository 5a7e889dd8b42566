"""Streaming (one bar at a time) SMA, EMA, Bollinger, MACD, Keltner and VWAP.

Each ``update`` returns exactly what the vectorised function returns at that bar: NaN (or a
tuple of NaN) during warm-up, and NaN for a bar with a non-finite input, which is skipped
without touching the state. ``.value`` is the value after the last valid bar. The classes are
plain-Python, ``__slots__`` and floats only: they are the hot path of bar-by-bar strategies.
"""

from __future__ import annotations

import math
from collections import deque

from aegis.indicators._common import NAN, check_factor, check_period
from aegis.indicators._streaming_base import StreamingIndicator
from aegis.indicators._types import BollingerBands, KeltnerChannels, Macd
from aegis.indicators.averages import _check_macd_periods
from aegis.indicators.streaming_oscillators import StreamingAtr

# Recompute a running window sum from scratch this often, so rounding drift stays bounded.
_RESUM_EVERY = 1024


class StreamingSma(StreamingIndicator):
    """Simple moving average of the last ``period`` closes (see :func:`aegis.indicators.sma`)."""

    __slots__ = ("_since_resum", "_sum", "_value", "_window", "period")
    _PARAMS = ("period",)
    _FIELDS = ("_window", "_sum", "_since_resum", "_value")

    def __init__(self, period: int = 30) -> None:
        self.period = check_period("period", period)
        self._window: deque[float] = deque(maxlen=self.period)
        self._sum = 0.0
        self._since_resum = 0
        self._value = NAN

    def update(self, close: float) -> float:
        """Add one close; return the SMA (NaN during warm-up or for a non-finite close)."""
        if close - close != 0.0:  # NaN or inf
            return NAN
        window = self._window
        if len(window) == self.period:
            self._sum += close - window[0]
        else:
            self._sum += close
        window.append(close)
        self._since_resum += 1
        if self._since_resum >= _RESUM_EVERY:
            self._since_resum = 0
            self._sum = math.fsum(window)
        if len(window) == self.period:
            self._value = self._sum / self.period
            return self._value
        return NAN

    @property
    def value(self) -> float:
        """The current SMA (NaN until ready)."""
        return self._value

    @property
    def is_ready(self) -> bool:
        """True once ``period`` valid closes were seen."""
        return len(self._window) == self.period


class StreamingEma(StreamingIndicator):
    """EMA seeded with the SMA of the first ``period`` closes (TA-Lib; see ``ema``)."""

    __slots__ = ("_alpha", "_count", "_decay", "_seed_sum", "_value", "period")
    _PARAMS = ("period",)
    _FIELDS = ("_count", "_seed_sum", "_value")

    def __init__(self, period: int = 30) -> None:
        self.period = check_period("period", period)
        self._alpha = 2.0 / (self.period + 1)
        self._decay = 1.0 - self._alpha
        self._count = 0
        self._seed_sum = 0.0
        self._value = NAN

    def update(self, close: float) -> float:
        """Add one close; return the EMA (NaN during warm-up or for a non-finite close)."""
        if self._count >= self.period:
            if close - close == 0.0:
                value = self._alpha * close + self._decay * self._value
                self._value = value
                return value
            return NAN
        return self._warm_up(close)

    def _warm_up(self, close: float) -> float:
        if close - close != 0.0:
            return NAN
        self._count += 1
        self._seed_sum += close
        if self._count == self.period:
            self._value = self._seed_sum / self.period
            return self._value
        return NAN

    @property
    def value(self) -> float:
        """The current EMA (NaN until ready)."""
        return self._value

    @property
    def is_ready(self) -> bool:
        """True once ``period`` valid closes were seen."""
        return self._count >= self.period


class StreamingBollinger(StreamingIndicator):
    """Bollinger bands, SMA ± num_std · population std (see ``bollinger``)."""

    __slots__ = ("_sma", "_value", "num_std", "period")
    _PARAMS = ("period", "num_std")
    _FIELDS = ("_sma", "_value")

    def __init__(self, period: int = 20, num_std: float = 2.0) -> None:
        self.period = check_period("period", period)
        self.num_std = check_factor("num_std", num_std)
        self._sma = StreamingSma(self.period)
        self._value = BollingerBands(NAN, NAN, NAN)

    def update(self, close: float) -> BollingerBands[float]:
        """Add one close; return (upper, middle, lower)."""
        middle = self._sma.update(close)
        if middle != middle:
            return BollingerBands(NAN, NAN, NAN)
        squares = 0.0
        for item in self._sma._window:
            squares += (item - middle) ** 2
        width = self.num_std * math.sqrt(squares / self.period)
        self._value = BollingerBands(middle + width, middle, middle - width)
        return self._value

    @property
    def value(self) -> BollingerBands[float]:
        """The current bands (NaN until ready)."""
        return self._value

    @property
    def is_ready(self) -> bool:
        """True once ``period`` valid closes were seen."""
        return self._sma.is_ready


class StreamingMacd(StreamingIndicator):
    """TA-Lib MACD, bar by bar (see ``macd`` for the seeding and warm-up)."""

    __slots__ = (
        "_buffer",
        "_fast",
        "_fast_alpha",
        "_fast_decay",
        "_signal",
        "_slow",
        "_slow_alpha",
        "_slow_decay",
        "fast_period",
        "signal_period",
        "slow_period",
    )
    _PARAMS = ("fast_period", "slow_period", "signal_period")
    _FIELDS = ("_buffer", "_fast", "_slow", "_signal")

    def __init__(self, fast_period: int = 12, slow_period: int = 26, signal_period: int = 9):
        fast, slow, signal = _check_macd_periods(fast_period, slow_period, signal_period)
        self.fast_period, self.slow_period, self.signal_period = fast, slow, signal
        self._fast_alpha = 2.0 / (fast + 1)
        self._slow_alpha = 2.0 / (slow + 1)
        self._fast_decay = 1.0 - self._fast_alpha
        self._slow_decay = 1.0 - self._slow_alpha
        self._buffer: list[float] = []  # the first slow_period closes, for both seeds
        self._fast = NAN
        self._slow = NAN
        self._signal = StreamingEma(signal)

    def update(self, close: float) -> Macd[float]:
        """Add one close; return (macd, signal, hist)."""
        if close - close != 0.0:
            return Macd(NAN, NAN, NAN)
        if self._slow == self._slow:
            self._fast = self._fast_alpha * close + self._fast_decay * self._fast
            self._slow = self._slow_alpha * close + self._slow_decay * self._slow
        else:
            self._buffer.append(close)
            if len(self._buffer) < self.slow_period:
                return Macd(NAN, NAN, NAN)
            self._slow = sum(self._buffer) / self.slow_period
            self._fast = sum(self._buffer[self.slow_period - self.fast_period :]) / self.fast_period
            self._buffer = []
        line = self._fast - self._slow
        signal = self._signal.update(line)
        return Macd(line, signal, line - signal)

    @property
    def value(self) -> Macd[float]:
        """The current (macd, signal, hist)."""
        if self._slow != self._slow:
            return Macd(NAN, NAN, NAN)
        line = self._fast - self._slow
        signal = self._signal.value
        return Macd(line, signal, line - signal)

    @property
    def is_ready(self) -> bool:
        """True once signal and hist are defined."""
        return self._signal.is_ready


class StreamingKeltner(StreamingIndicator):
    """Keltner channels: EMA(close, period) ± multiplier · ATR(atr_period) (see ``keltner``)."""

    __slots__ = ("_atr", "_ema", "atr_period", "multiplier", "period")
    _PARAMS = ("period", "atr_period", "multiplier")
    _FIELDS = ("_ema", "_atr")

    def __init__(self, period: int = 20, atr_period: int = 10, multiplier: float = 2.0) -> None:
        self.period = check_period("period", period)
        self.atr_period = check_period("atr_period", atr_period)
        self.multiplier = check_factor("multiplier", multiplier)
        self._ema = StreamingEma(self.period)
        self._atr = StreamingAtr(self.atr_period)

    def update(self, high: float, low: float, close: float) -> KeltnerChannels[float]:
        """Add one bar; return (upper, middle, lower)."""
        if (high + low + close) - (high + low + close) != 0.0:
            return KeltnerChannels(NAN, NAN, NAN)
        middle = self._ema.update(close)
        width = self.multiplier * self._atr.update(high, low, close)
        return KeltnerChannels(middle + width, middle, middle - width)

    @property
    def value(self) -> KeltnerChannels[float]:
        """The current channels."""
        middle = self._ema.value
        width = self.multiplier * self._atr.value
        return KeltnerChannels(middle + width, middle, middle - width)

    @property
    def is_ready(self) -> bool:
        """True once both the EMA and the ATR are defined."""
        return self._ema.is_ready and self._atr.is_ready


class StreamingVwap(StreamingIndicator):
    """Cumulative VWAP of (high + low + close) / 3, reset per ``anchor_ms`` session (``vwap``)."""

    __slots__ = ("_session", "_value", "_volume", "_weighted", "anchor_ms")
    _PARAMS = ("anchor_ms",)
    _FIELDS = ("_session", "_weighted", "_volume", "_value")

    def __init__(self, anchor_ms: int | None = None) -> None:
        self.anchor_ms = None if anchor_ms is None else check_period("anchor_ms", anchor_ms)
        self._session = -(2**62)  # no session yet
        self._weighted = 0.0
        self._volume = 0.0
        self._value = NAN

    def update(
        self, high: float, low: float, close: float, volume: float, ts_ms: int | None = None
    ) -> float:
        """Add one bar; return the VWAP (NaN while the session has no volume or the bar has a
        non-finite input, e.g. an empty volume)."""
        total = high + low + close + volume
        if total - total != 0.0:
            return NAN
        if self.anchor_ms is not None:
            if ts_ms is None:
                raise ValueError("StreamingVwap.update: ts_ms is required when anchor_ms is set")
            session = int(ts_ms) // self.anchor_ms
            if session != self._session:
                self._session = session
                self._weighted = 0.0
                self._volume = 0.0
        self._weighted += (high + low + close) / 3.0 * volume
        self._volume += volume
        self._value = self._weighted / self._volume if self._volume != 0.0 else NAN
        return self._value

    @property
    def value(self) -> float:
        """The current VWAP."""
        return self._value

    @property
    def is_ready(self) -> bool:
        """True when the current session has volume."""
        return self._value == self._value
