"""``ema_adx_trend``: follow the EMA direction, but only when ADX says a trend exists.

- uptrend at bar i: EMA(fast) > EMA(slow) and ADX >= ``adx_threshold``; ENTER_LONG on the bar
  an uptrend starts (it was not one at i-1);
- EXIT_LONG when EMA(fast) crosses below EMA(slow) (``fast[i-1] >= slow[i-1]`` and
  ``fast[i] < slow[i]``): a weakening ADX alone is no reason to leave a trend;
- with ``allow_short`` the mirror rules; an entry on the bar of an exit wins (it reverses).

Strength of an entry: ADX / 50 capped at 1 (ADX 50 is a very strong trend); exits 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from aegis.indicators import StreamingAdx, StreamingEma, adx, ema
from aegis.model.candle import Candle
from aegis.model.errors import ConfigError
from aegis.model.signals import Action, Decision

from .._decision import lazy_decision
from .._format import num, relation
from .._params import Param
from ..base import CandleArrays, SignalFrame, Strategy
from ..registry import register_strategy
from ._arrays import layer_actions, shift, shift_bool

_HOLD = Action.HOLD
_FULL_ADX = 50.0


def _render(
    action: Action,
    fast_period: int,
    slow_period: int,
    fast: float,
    slow: float,
    adx_value: float,
    threshold: float,
) -> tuple[str, Mapping[str, object]]:
    metadata = {"fast_ema": fast, "slow_ema": slow, "adx": adx_value, "threshold": threshold}
    emas = f"EMA{fast_period} {num(fast)} {relation(fast, slow)} EMA{slow_period} {num(slow)}"
    strength = f"ADX {num(adx_value)} vs {num(threshold)}"
    if action is Action.ENTER_LONG:
        return f"enter long: uptrend starts, {emas}, {strength}", metadata
    if action is Action.ENTER_SHORT:
        return f"enter short: downtrend starts, {emas}, {strength}", metadata
    if action is Action.EXIT_LONG:
        return f"exit long: EMA{fast_period} crossed below, {emas}", metadata
    if action is Action.EXIT_SHORT:
        return f"exit short: EMA{fast_period} crossed above, {emas}", metadata
    if slow != slow or adx_value != adx_value:
        return "warming up: EMAs and ADX not defined yet", metadata
    return f"no signal: {emas}, {strength}", metadata


@register_strategy
class EmaAdxTrend(Strategy):
    """Trend following: EMA direction confirmed by ADX above a threshold."""

    name: ClassVar[str] = "ema_adx_trend"
    description: ClassVar[str] = "EMA(fast) vs EMA(slow) direction, entered when ADX confirms"
    parameters: ClassVar[Mapping[str, Param]] = {
        "fast": Param(12, minimum=1, description="period of the fast EMA"),
        "slow": Param(26, minimum=2, description="period of the slow EMA (> fast)"),
        "adx_period": Param(14, minimum=2, maximum=1000, description="ADX period"),
        "adx_threshold": Param(25.0, minimum=0.0, maximum=100.0, description="trend if ADX >="),
        "allow_short": Param(False, description="also trade downtrends"),
    }

    def _configure(self) -> None:
        self.fast = self._int("fast")
        self.slow = self._int("slow")
        if self.fast >= self.slow:
            raise ConfigError(
                f"ema_adx_trend: parameter fast={self.fast} must be below slow={self.slow}"
            )
        self.adx_period = self._int("adx_period")
        self.threshold = self._float("adx_threshold")
        self.allow_short = self._bool("allow_short")
        # TA-Lib ADX needs 2 * period bars before its first value
        self.warmup_bars = max(self.slow, 2 * self.adx_period) + 1

    def _reset(self) -> None:
        self._fast_update = StreamingEma(self.fast).update
        self._slow_update = StreamingEma(self.slow).update
        self._adx_update = StreamingAdx(self.adx_period).update
        self._previous_fast = np.nan
        self._previous_slow = np.nan
        self._was_up = False
        self._was_down = False

    def _on_candle(self, candle: Candle, symbol: str) -> Decision:
        fast = self._fast_update(candle.close)
        slow = self._slow_update(candle.close)
        adx_value = self._adx_update(candle.high, candle.low, candle.close)
        previous_fast, previous_slow = self._previous_fast, self._previous_slow
        self._previous_fast, self._previous_slow = fast, slow
        trending = adx_value >= self.threshold
        up = fast > slow and trending
        down = fast < slow and trending
        crossed_down = previous_fast >= previous_slow and fast < slow
        crossed_up = previous_fast <= previous_slow and fast > slow
        if up and not self._was_up:
            action = Action.ENTER_LONG
        elif self.allow_short and down and not self._was_down:
            action = Action.ENTER_SHORT
        elif crossed_down:
            action = Action.EXIT_LONG
        elif self.allow_short and crossed_up:
            action = Action.EXIT_SHORT
        else:
            action = _HOLD
        self._was_up, self._was_down = up, down
        strength = 0.0 if action is _HOLD else _strength(action, adx_value)
        return lazy_decision(
            symbol,
            candle.ts_ms,
            action,
            strength,
            "ema_adx_trend",
            _render,
            (action, self.fast, self.slow, fast, slow, adx_value, self.threshold),
        )

    def signals(self, candles: CandleArrays) -> SignalFrame:
        """Vectorised regimes and their transitions."""
        close = candles.close
        fast = ema(close, self.fast)
        slow = ema(close, self.slow)
        adx_values = adx(candles.high, candles.low, close, self.adx_period)
        trending = adx_values >= self.threshold
        up = (fast > slow) & trending
        down = (fast < slow) & trending
        was_up, was_down = shift_bool(up), shift_bool(down)
        previous_fast, previous_slow = shift(fast), shift(slow)
        entry_strength = np.minimum(1.0, adx_values / _FULL_ADX)
        short = (
            (down & ~was_down, (previous_fast <= previous_slow) & (fast > slow), entry_strength)
            if self.allow_short
            else None
        )
        action, strength = layer_actions(
            up & ~was_up,
            (previous_fast >= previous_slow) & (fast < slow),
            entry_strength,
            short,
        )
        fast_period, slow_period, threshold = self.fast, self.slow, self.threshold

        def args_at(i: int) -> tuple[object, ...]:
            return (
                Action(int(action[i])),
                fast_period,
                slow_period,
                float(fast[i]),
                float(slow[i]),
                float(adx_values[i]),
                threshold,
            )

        return self._frame(action, strength, _render, args_at)


def _strength(action: Action, adx_value: float) -> float:
    if action is Action.ENTER_LONG or action is Action.ENTER_SHORT:
        return min(1.0, adx_value / _FULL_ADX)
    return 1.0
