"""Streaming RSI, ATR, ADX and stochastic: TA-Lib's algorithms one bar at a time.

The arithmetic is written in the same order as the vectorised forms (``y = gain · x + decay ·
y_prev``, the form the vectorised recurrence evaluates), so both forms agree to rounding.
"""

from __future__ import annotations

from collections import deque

from aegis.indicators._common import NAN, check_period
from aegis.indicators._streaming_base import StreamingIndicator
from aegis.indicators._types import Stochastic
from aegis.indicators.oscillators import TALIB_ZERO


class StreamingRsi(StreamingIndicator):
    """Wilder RSI (TA-Lib RSI; see ``rsi``); first value on the ``period + 1``-th valid close."""

    __slots__ = ("_count", "_decay", "_gain", "_inverse", "_loss", "_previous", "_value", "period")
    _PARAMS = ("period",)
    _FIELDS = ("_count", "_previous", "_gain", "_loss", "_value")

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("period", period)
        self._inverse = 1.0 / self.period
        self._decay = (self.period - 1) / self.period
        self._count = 0
        self._previous = NAN
        self._gain = 0.0
        self._loss = 0.0
        self._value = NAN

    def update(self, close: float) -> float:
        """Add one close; return the RSI (NaN during warm-up or for a non-finite close)."""
        if close - close != 0.0:
            return NAN
        change = close - self._previous
        self._previous = close
        self._count += 1
        gain = change if change > 0.0 else 0.0
        loss = -change if change < 0.0 else 0.0
        if self._count > self.period + 1:
            self._gain = self._inverse * gain + self._decay * self._gain
            self._loss = self._inverse * loss + self._decay * self._loss
        elif self._count > 1:
            self._gain += gain
            self._loss += loss
            if self._count < self.period + 1:
                return NAN
            self._gain /= self.period
            self._loss /= self.period
        else:
            return NAN
        total = self._gain + self._loss
        self._value = 0.0 if abs(total) < TALIB_ZERO else 100.0 * (self._gain / total)
        return self._value

    @property
    def value(self) -> float:
        """The current RSI (NaN until ready)."""
        return self._value

    @property
    def is_ready(self) -> bool:
        """True once ``period + 1`` valid closes were seen."""
        return self._count > self.period


def _true_range(high: float, low: float, previous_close: float) -> float:
    return max(high - low, abs(high - previous_close), abs(low - previous_close))


class StreamingAtr(StreamingIndicator):
    """Wilder ATR (TA-Lib ATR; see ``atr``); first value on the ``period + 1``-th valid bar."""

    __slots__ = ("_count", "_decay", "_inverse", "_previous_close", "_sum", "_value", "period")
    _PARAMS = ("period",)
    _FIELDS = ("_count", "_previous_close", "_sum", "_value")

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("period", period)
        self._inverse = 1.0 / self.period
        self._decay = (self.period - 1) / self.period
        self._count = 0
        self._previous_close = NAN
        self._sum = 0.0
        self._value = NAN

    def update(self, high: float, low: float, close: float) -> float:
        """Add one bar; return the ATR (NaN during warm-up or for a non-finite input)."""
        total = high + low + close
        if total - total != 0.0:
            return NAN
        previous = self._previous_close
        self._previous_close = close
        self._count += 1
        if self._count == 1:
            return NAN
        true_range = _true_range(high, low, previous)
        if self._count > self.period + 1:
            self._value = self._inverse * true_range + self._decay * self._value
            return self._value
        self._sum += true_range
        if self._count == self.period + 1:
            self._value = self._sum / self.period
            return self._value
        return NAN

    @property
    def value(self) -> float:
        """The current ATR (NaN until ready)."""
        return self._value

    @property
    def is_ready(self) -> bool:
        """True once ``period + 1`` valid bars were seen."""
        return self._count > self.period


class StreamingAdx(StreamingIndicator):
    """TA-Lib ADX bar by bar (see ``adx``); first value on the ``2 · period``-th valid bar."""

    __slots__ = (
        "_count",
        "_decay",
        "_dx_sum",
        "_inverse",
        "_minus",
        "_plus",
        "_previous_close",
        "_previous_high",
        "_previous_low",
        "_range",
        "_value",
        "period",
    )
    _PARAMS = ("period",)
    _FIELDS = (
        "_count",
        "_previous_high",
        "_previous_low",
        "_previous_close",
        "_plus",
        "_minus",
        "_range",
        "_dx_sum",
        "_value",
    )

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("period", period)
        self._inverse = 1.0 / self.period
        self._decay = (self.period - 1) / self.period
        self._count = 0
        self._previous_high = NAN
        self._previous_low = NAN
        self._previous_close = NAN
        self._plus = 0.0  # Wilder running sums of +DM, -DM and true range
        self._minus = 0.0
        self._range = 0.0
        self._dx_sum = 0.0
        self._value = NAN

    def update(self, high: float, low: float, close: float) -> float:
        """Add one bar; return the ADX (NaN during warm-up or for a non-finite input)."""
        total = high + low + close
        if total - total != 0.0:
            return NAN
        index = self._count  # index of this bar among the valid bars
        self._count += 1
        up = high - self._previous_high
        down = self._previous_low - low
        true_range = _true_range(high, low, self._previous_close)
        self._previous_high, self._previous_low, self._previous_close = high, low, close
        if index == 0:
            return NAN
        plus = up if (up > 0.0 and up > down) else 0.0
        minus = down if (down > 0.0 and up < down) else 0.0
        if index < self.period:
            self._plus += plus
            self._minus += minus
            self._range += true_range
            return NAN
        self._plus = plus + self._decay * self._plus
        self._minus = minus + self._decay * self._minus
        self._range = true_range + self._decay * self._range
        return self._advance(index)

    def _advance(self, index: int) -> float:
        dx = NAN
        if abs(self._range) >= TALIB_ZERO:
            minus_di = 100.0 * (self._minus / self._range)
            plus_di = 100.0 * (self._plus / self._range)
            di_sum = minus_di + plus_di
            if abs(di_sum) >= TALIB_ZERO:
                dx = 100.0 * (abs(minus_di - plus_di) / di_sum)
        first = 2 * self.period - 1
        if index <= first:
            self._dx_sum += dx if dx == dx else 0.0
            if index < first:
                return NAN
            self._value = self._dx_sum / self.period
        elif dx == dx:  # TA-Lib keeps ADX unchanged when the bar has no DX
            self._value = self._inverse * dx + self._decay * self._value
        return self._value

    @property
    def value(self) -> float:
        """The current ADX (NaN until ready)."""
        return self._value

    @property
    def is_ready(self) -> bool:
        """True once ``2 · period`` valid bars were seen."""
        return self._count >= 2 * self.period


class StreamingStochastic(StreamingIndicator):
    """TA-Lib STOCH with SMA smoothing, bar by bar (see ``stochastic``)."""

    __slots__ = (
        "_fast_k",
        "_highs",
        "_lows",
        "_slow_k",
        "_value",
        "fastk_period",
        "slowd_period",
        "slowk_period",
    )
    _PARAMS = ("fastk_period", "slowk_period", "slowd_period")
    _FIELDS = ("_highs", "_lows", "_fast_k", "_slow_k", "_value")

    def __init__(self, fastk_period: int = 5, slowk_period: int = 3, slowd_period: int = 3):
        self.fastk_period = check_period("fastk_period", fastk_period)
        self.slowk_period = check_period("slowk_period", slowk_period)
        self.slowd_period = check_period("slowd_period", slowd_period)
        self._highs: deque[float] = deque(maxlen=self.fastk_period)
        self._lows: deque[float] = deque(maxlen=self.fastk_period)
        self._fast_k: deque[float] = deque(maxlen=self.slowk_period)
        self._slow_k: deque[float] = deque(maxlen=self.slowd_period)
        self._value = Stochastic(NAN, NAN)

    def update(self, high: float, low: float, close: float) -> Stochastic[float]:
        """Add one bar; return (k, d)."""
        total = high + low + close
        if total - total != 0.0:
            return Stochastic(NAN, NAN)
        self._highs.append(high)
        self._lows.append(low)
        if len(self._highs) < self.fastk_period:
            return Stochastic(NAN, NAN)
        lowest = min(self._lows)
        scale = (max(self._highs) - lowest) / 100.0
        self._fast_k.append((close - lowest) / scale if scale != 0.0 else 0.0)
        if len(self._fast_k) < self.slowk_period:
            return Stochastic(NAN, NAN)
        k = sum(self._fast_k) / self.slowk_period
        self._slow_k.append(k)
        d = sum(self._slow_k) / self.slowd_period if len(self._slow_k) == self.slowd_period else NAN
        self._value = Stochastic(k, d)
        return self._value

    @property
    def value(self) -> Stochastic[float]:
        """The current (k, d)."""
        return self._value

    @property
    def is_ready(self) -> bool:
        """True once d is defined."""
        return len(self._slow_k) == self.slowd_period
