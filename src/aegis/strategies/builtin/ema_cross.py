"""``ema_cross``: long when EMA(fast) crosses above EMA(slow), flat when it crosses below.

A cross at bar i means ``fast[i-1] <= slow[i-1] and fast[i] > slow[i]`` with both EMAs defined
at i-1 (the exit mirrors it with >= and <). EMAs follow TA-Lib (seeded with an SMA). Signals are
emitted regardless of position; the order layer ignores an exit when flat. Strength: 1.0 on a
cross (a cross is an event, not a degree), 0.0 on HOLD.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from aegis.indicators import StreamingEma, ema
from aegis.model.candle import Candle
from aegis.model.errors import ConfigError
from aegis.model.signals import Action, Decision

from .._decision import lazy_decision
from .._format import num, relation
from .._params import Param
from ..base import CandleArrays, SignalFrame, Strategy
from ..registry import register_strategy

_HOLD = Action.HOLD
_ENTER = Action.ENTER_LONG
_EXIT = Action.EXIT_LONG


def _render(
    action: Action, fast_period: int, slow_period: int, fast: float, slow: float, bars: int
) -> tuple[str, Mapping[str, object]]:
    fast_label = f"EMA{fast_period}"
    slow_label = f"EMA{slow_period}"
    metadata = {"fast_ema": fast, "slow_ema": slow, "bars": bars}
    if action is _ENTER:
        thought = f"enter long: {fast_label} {num(fast)} crossed above {slow_label} {num(slow)}"
    elif action is _EXIT:
        thought = f"exit long: {fast_label} {num(fast)} crossed below {slow_label} {num(slow)}"
    elif slow != slow:  # NaN: still warming up
        thought = f"warming up: {slow_label} needs {slow_period} closes, have {bars}"
    else:
        thought = (
            f"no cross: {fast_label} {num(fast)} {relation(fast, slow)} {slow_label} {num(slow)}"
        )
    return thought, metadata


@register_strategy
class EmaCross(Strategy):
    """Long-only EMA crossover (the correctness reference of the backtester)."""

    name: ClassVar[str] = "ema_cross"
    description: ClassVar[str] = "long when EMA(fast) crosses above EMA(slow), exit on cross below"
    parameters: ClassVar[Mapping[str, Param]] = {
        "fast": Param(12, minimum=1, description="period of the fast EMA"),
        "slow": Param(26, minimum=2, description="period of the slow EMA (> fast)"),
    }

    def _configure(self) -> None:
        self.fast = self._int("fast")
        self.slow = self._int("slow")
        if self.fast >= self.slow:
            raise ConfigError(
                f"ema_cross: parameter fast={self.fast} must be below slow={self.slow}"
            )
        # the first possible cross needs both EMAs at i-1: slow closes plus one
        self.warmup_bars = self.slow + 1

    def _reset(self) -> None:
        self._fast_update = StreamingEma(self.fast).update
        self._slow_update = StreamingEma(self.slow).update
        self._previous_fast = np.nan
        self._previous_slow = np.nan
        self._bars = 0

    def _on_candle(self, candle: Candle, symbol: str) -> Decision:
        fast = self._fast_update(candle.close)
        slow = self._slow_update(candle.close)
        previous_fast = self._previous_fast
        previous_slow = self._previous_slow
        self._previous_fast = fast
        self._previous_slow = slow
        self._bars += 1
        if previous_fast <= previous_slow and fast > slow:
            action, strength = _ENTER, 1.0
        elif previous_fast >= previous_slow and fast < slow:
            action, strength = _EXIT, 1.0
        else:
            action, strength = _HOLD, 0.0
        return lazy_decision(
            symbol,
            candle.ts_ms,
            action,
            strength,
            "ema_cross",
            _render,
            (action, self.fast, self.slow, fast, slow, self._bars),
        )

    def signals(self, candles: CandleArrays) -> SignalFrame:
        """Vectorised crosses: two C-speed EMAs and four comparisons, no loop over bars.

        Only the EMA values of the crossing bars are kept for their thoughts (16 bytes per
        candle less over a long history); a HOLD bar's thought, rarely read, recomputes them
        from the closes up to that bar (an EMA is causal: the same values).
        """
        close = candles.close
        fast = ema(close, self.fast)
        slow = ema(close, self.slow)
        action = np.zeros(len(close), dtype=np.int8)
        if len(close) > 1:
            # NaN compares False, so "both defined at i-1" holds by construction
            tail = action[1:]
            tail[(fast[:-1] <= slow[:-1]) & (fast[1:] > slow[1:])] = int(_ENTER)
            tail[(fast[:-1] >= slow[:-1]) & (fast[1:] < slow[1:])] = int(_EXIT)
        crossings = np.flatnonzero(action)
        fast_at, slow_at = fast[crossings], slow[crossings]
        del fast, slow  # the full EMA arrays are not needed any more
        strength = (action != 0).astype(np.float64)
        fast_period, slow_period = self.fast, self.slow

        def args_at(i: int) -> tuple[object, ...]:
            k = int(np.searchsorted(crossings, i))
            if k < len(crossings) and crossings[k] == i:
                fast_i, slow_i = fast_at.item(k), slow_at.item(k)
            else:
                fast_i = float(ema(close[: i + 1], fast_period)[-1])
                slow_i = float(ema(close[: i + 1], slow_period)[-1])
            return (Action(int(action[i])), fast_period, slow_period, fast_i, slow_i, i + 1)

        return self._frame(action, strength, _render, args_at)
