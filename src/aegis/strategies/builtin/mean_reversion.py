"""``mean_reversion``: buy a close below the lower Bollinger band while RSI is oversold.

- entry condition: close < lower band and RSI < ``oversold``; ENTER_LONG on the bar it becomes
  true (it was false at i-1);
- exit condition: close >= middle band or RSI > ``overbought``; EXIT_LONG on the bar it
  becomes true;
- with ``allow_short`` the mirror (close > upper and RSI > overbought enters short; close <=
  middle or RSI < oversold exits); an entry on an exit bar wins (it reverses).

A close within 1e-9 (relative) of a band counts as touching it, so float noise in the band
cannot flip a decision between the streaming and the vectorised form.
Strength of an entry: RSI depth beyond its level, ``(oversold - rsi) / oversold`` for longs and
``(rsi - overbought) / (100 - overbought)`` for shorts, capped at 1; exits 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from aegis.indicators import StreamingBollinger, StreamingRsi, bollinger, rsi
from aegis.model.candle import Candle
from aegis.model.errors import ConfigError
from aegis.model.signals import Action, Decision

from .._decision import lazy_decision
from .._format import num
from .._params import Param
from ..base import CandleArrays, SignalFrame, Strategy
from ..registry import register_strategy
from ._arrays import layer_actions, shift_bool

_HOLD = Action.HOLD
# Bands come from a running sum (streaming) or a convolution (vectorised) and differ by ~1 ulp;
# a close that sits exactly on a band (flat markets) must not be decided by that noise.
_TOUCH = 1e-9


def _render(
    action: Action, close: float, lower: float, middle: float, upper: float, rsi_value: float
) -> tuple[str, Mapping[str, object]]:
    metadata = {"close": close, "lower": lower, "middle": middle, "upper": upper, "rsi": rsi_value}
    where = f"close {num(close)}, bands {num(lower)} / {num(middle)} / {num(upper)}"
    if action is Action.ENTER_LONG:
        return f"enter long: oversold below lower band, {where}, RSI {num(rsi_value)}", metadata
    if action is Action.ENTER_SHORT:
        return f"enter short: overbought above upper band, {where}, RSI {num(rsi_value)}", metadata
    if action is Action.EXIT_LONG:
        return f"exit long: back to the middle or RSI high, {where}, RSI {num(rsi_value)}", metadata
    if action is Action.EXIT_SHORT:
        return f"exit short: back to the middle or RSI low, {where}, RSI {num(rsi_value)}", metadata
    if middle != middle or rsi_value != rsi_value:
        return "warming up: Bollinger bands and RSI not defined yet", metadata
    return f"no signal: {where}, RSI {num(rsi_value)}", metadata


@register_strategy
class MeanReversion(Strategy):
    """Bollinger lower band plus RSI oversold enters; the middle band or RSI overbought exits."""

    name: ClassVar[str] = "mean_reversion"
    description: ClassVar[str] = "buy oversold closes below the lower Bollinger band"
    parameters: ClassVar[Mapping[str, Param]] = {
        "period": Param(20, minimum=2, maximum=10_000, description="Bollinger period"),
        "num_std": Param(2.0, minimum=0.0, maximum=10.0, description="band width in std devs"),
        "rsi_period": Param(14, minimum=2, maximum=10_000, description="RSI period"),
        "oversold": Param(30.0, minimum=0.0, maximum=100.0, description="RSI below: oversold"),
        "overbought": Param(70.0, minimum=0.0, maximum=100.0, description="RSI above: overbought"),
        "allow_short": Param(False, description="mirror the rules for shorts"),
    }

    def _configure(self) -> None:
        self.period = self._int("period")
        self.num_std = self._float("num_std")
        self.rsi_period = self._int("rsi_period")
        self.oversold = self._float("oversold")
        self.overbought = self._float("overbought")
        if not 0.0 < self.oversold < self.overbought < 100.0:
            raise ConfigError(
                f"mean_reversion: parameters oversold={self.oversold} and "
                f"overbought={self.overbought} must satisfy 0 < oversold < overbought < 100"
            )
        self.allow_short = self._bool("allow_short")
        self.warmup_bars = max(self.period, self.rsi_period + 1) + 1

    def _reset(self) -> None:
        self._bands_update = StreamingBollinger(self.period, self.num_std).update
        self._rsi_update = StreamingRsi(self.rsi_period).update
        self._previous = (False, False, False, False)

    def _on_candle(self, candle: Candle, symbol: str) -> Decision:
        close = candle.close
        upper, middle, lower = self._bands_update(close)
        rsi_value = self._rsi_update(close)
        slack = _TOUCH * abs(middle)
        flags = (
            close < lower - slack and rsi_value < self.oversold,  # long entry
            close >= middle - slack or rsi_value > self.overbought,  # long exit
            close > upper + slack and rsi_value > self.overbought,  # short entry
            close <= middle + slack or rsi_value < self.oversold,  # short exit
        )
        enter_long, exit_long, enter_short, exit_short = (
            now and not before for now, before in zip(flags, self._previous, strict=True)
        )
        self._previous = flags
        if enter_long:
            action, strength = (
                Action.ENTER_LONG,
                min(1.0, (self.oversold - rsi_value) / self.oversold),
            )
        elif self.allow_short and enter_short:
            action = Action.ENTER_SHORT
            strength = min(1.0, (rsi_value - self.overbought) / (100.0 - self.overbought))
        elif exit_long:
            action, strength = Action.EXIT_LONG, 1.0
        elif self.allow_short and exit_short:
            action, strength = Action.EXIT_SHORT, 1.0
        else:
            action, strength = _HOLD, 0.0
        return lazy_decision(
            symbol,
            candle.ts_ms,
            action,
            strength,
            "mean_reversion",
            _render,
            (action, close, lower, middle, upper, rsi_value),
        )

    def signals(self, candles: CandleArrays) -> SignalFrame:
        """Vectorised conditions and their rising edges."""
        close = candles.close
        upper, middle, lower = bollinger(close, self.period, self.num_std)
        rsi_values = rsi(close, self.rsi_period)
        slack = _TOUCH * np.abs(middle)
        long_in = (close < lower - slack) & (rsi_values < self.oversold)
        long_out = (close >= middle - slack) | (rsi_values > self.overbought)
        short = None
        if self.allow_short:
            short_in = (close > upper + slack) & (rsi_values > self.overbought)
            short_out = (close <= middle + slack) | (rsi_values < self.oversold)
            depth = (rsi_values - self.overbought) / (100.0 - self.overbought)
            short = (
                short_in & ~shift_bool(short_in),
                short_out & ~shift_bool(short_out),
                np.minimum(1.0, depth),
            )
        action, strength = layer_actions(
            long_in & ~shift_bool(long_in),
            long_out & ~shift_bool(long_out),
            np.minimum(1.0, (self.oversold - rsi_values) / self.oversold),
            short,
        )

        def args_at(i: int) -> tuple[object, ...]:
            return (
                Action(int(action[i])),
                float(close[i]),
                float(lower[i]),
                float(middle[i]),
                float(upper[i]),
                float(rsi_values[i]),
            )

        return self._frame(action, strength, _render, args_at)
