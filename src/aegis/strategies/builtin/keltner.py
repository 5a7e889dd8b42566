"""``keltner_breakout``: enter long when the close breaks above the upper Keltner band.

Bands: middle = EMA(close, ``period``), upper/lower = middle ± ``multiplier`` x ATR(``atr_period``).
- ENTER_LONG when the close crosses above the upper band (``close[i-1] <= upper[i-1]`` and
  ``close[i] > upper[i]``), EXIT_LONG when it crosses below the middle line;
- with ``allow_short``: ENTER_SHORT on a cross below the lower band, EXIT_SHORT on a cross above
  the middle; an entry on an exit bar wins (it reverses).

Strength of an entry: how far the close is beyond the band, in units of the band's distance
from the middle (ATR x multiplier), capped at 1 (1 when the band has zero width); exits 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from aegis.indicators import StreamingKeltner, keltner
from aegis.model.candle import Candle
from aegis.model.signals import Action, Decision

from .._decision import lazy_decision
from .._format import num
from .._params import Param
from ..base import CandleArrays, SignalFrame, Strategy
from ..registry import register_strategy
from ._arrays import layer_actions, shift

_HOLD = Action.HOLD


def _render(
    action: Action, close: float, upper: float, middle: float, lower: float
) -> tuple[str, Mapping[str, object]]:
    metadata = {"close": close, "upper": upper, "middle": middle, "lower": lower}
    if action is Action.ENTER_LONG:
        return f"enter long: close {num(close)} broke above upper band {num(upper)}", metadata
    if action is Action.ENTER_SHORT:
        return f"enter short: close {num(close)} broke below lower band {num(lower)}", metadata
    if action is Action.EXIT_LONG:
        return f"exit long: close {num(close)} fell below middle {num(middle)}", metadata
    if action is Action.EXIT_SHORT:
        return f"exit short: close {num(close)} rose above middle {num(middle)}", metadata
    if upper != upper:
        return "warming up: Keltner bands not defined yet", metadata
    return (
        f"no breakout: close {num(close)} inside bands {num(lower)} .. {num(upper)} "
        f"(middle {num(middle)})",
        metadata,
    )


@register_strategy
class KeltnerBreakout(Strategy):
    """Breakout above the upper Keltner band; exit below the middle line."""

    name: ClassVar[str] = "keltner_breakout"
    description: ClassVar[str] = "close above the upper Keltner band enters, below middle exits"
    parameters: ClassVar[Mapping[str, Param]] = {
        "period": Param(20, minimum=1, maximum=10_000, description="EMA period of the middle"),
        "atr_period": Param(10, minimum=1, maximum=10_000, description="ATR period"),
        "multiplier": Param(2.0, minimum=0.0, maximum=100.0, description="ATR multiplier"),
        "allow_short": Param(False, description="break below the lower band enters short"),
    }

    def _configure(self) -> None:
        self.period = self._int("period")
        self.atr_period = self._int("atr_period")
        self.multiplier = self._float("multiplier")
        self.allow_short = self._bool("allow_short")
        self.warmup_bars = max(self.period, self.atr_period + 1) + 1

    def _reset(self) -> None:
        self._update = StreamingKeltner(self.period, self.atr_period, self.multiplier).update
        self._previous = (np.nan, np.nan, np.nan, np.nan)  # close, upper, middle, lower

    def _on_candle(self, candle: Candle, symbol: str) -> Decision:
        close = candle.close
        upper, middle, lower = self._update(candle.high, candle.low, close)
        previous_close, previous_upper, previous_middle, previous_lower = self._previous
        self._previous = (close, upper, middle, lower)
        if close > upper and previous_close <= previous_upper:
            action = Action.ENTER_LONG
            strength = _strength(close - upper, upper - middle)
        elif self.allow_short and close < lower and previous_close >= previous_lower:
            action = Action.ENTER_SHORT
            strength = _strength(lower - close, middle - lower)
        elif close < middle and previous_close >= previous_middle:
            action, strength = Action.EXIT_LONG, 1.0
        elif self.allow_short and close > middle and previous_close <= previous_middle:
            action, strength = Action.EXIT_SHORT, 1.0
        else:
            action, strength = _HOLD, 0.0
        return lazy_decision(
            symbol,
            candle.ts_ms,
            action,
            strength,
            "keltner_breakout",
            _render,
            (action, close, upper, middle, lower),
        )

    def signals(self, candles: CandleArrays) -> SignalFrame:
        """Vectorised band crossings."""
        close = candles.close
        upper, middle, lower = keltner(
            candles.high, candles.low, close, self.period, self.atr_period, self.multiplier
        )
        previous_close = shift(close)
        previous_middle = shift(middle)
        short = (
            (
                (close < lower) & (previous_close >= shift(lower)),
                (close > middle) & (previous_close <= previous_middle),
                _strengths(lower - close, middle - lower),
            )
            if self.allow_short
            else None
        )
        action, strength = layer_actions(
            (close > upper) & (previous_close <= shift(upper)),
            (close < middle) & (previous_close >= previous_middle),
            _strengths(close - upper, upper - middle),
            short,
        )

        def args_at(i: int) -> tuple[object, ...]:
            return (
                Action(int(action[i])),
                float(close[i]),
                float(upper[i]),
                float(middle[i]),
                float(lower[i]),
            )

        return self._frame(action, strength, _render, args_at)


def _strength(excess: float, width: float) -> float:
    return min(1.0, excess / width) if width > 0 else 1.0


def _strengths(excess: np.ndarray, width: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(width > 0, np.minimum(1.0, excess / width), 1.0)
