"""``momentum``: enter after N *consecutive* rising closes, exit after M consecutive falling ones.

"Consecutive" is strict: one close that is not above the previous one (a down bar or a flat
bar) resets the count to zero, unlike the audited bot that counted rising bars anywhere in a
window. The signal fires on the bar where the streak reaches exactly N, once per streak.
With ``allow_short`` the rules mirror for shorts; when an entry and an exit fall on the same
bar the entry wins (an entry against an open position means "reverse").
Strength of an entry: the streak's move in percent divided by ``full_strength_pct``, capped at
1; exits have strength 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from aegis.model.candle import Candle
from aegis.model.signals import Action, Decision

from .._decision import lazy_decision
from .._format import num
from .._params import Param
from ..base import BoolArray, CandleArrays, IntArray, SignalFrame, Strategy
from ..registry import register_strategy

_HOLD = Action.HOLD


def _render(
    action: Action,
    up_run: int,
    down_run: int,
    bars: int,
    exit_bars: int,
    close: float,
    previous_close: float,
    move: float,
) -> tuple[str, Mapping[str, object]]:
    metadata = {"rising_run": up_run, "falling_run": down_run, "close": close, "move": move}
    if action is Action.ENTER_LONG:
        thought = f"enter long: {up_run} consecutive rising closes, up {num(move * 100)}%"
    elif action is Action.ENTER_SHORT:
        thought = f"enter short: {down_run} consecutive falling closes, down {num(-move * 100)}%"
    elif action is Action.EXIT_LONG:
        thought = f"exit long: {down_run} consecutive falling closes"
    elif action is Action.EXIT_SHORT:
        thought = f"exit short: {up_run} consecutive rising closes"
    elif previous_close != previous_close:
        thought = "warming up: need a previous close"
    elif up_run:
        thought = (
            f"no signal: {up_run} of {bars} rising closes in a row "
            f"(close {num(close)} > {num(previous_close)})"
        )
    elif down_run:
        thought = (
            f"no signal: {down_run} of {exit_bars} falling closes in a row "
            f"(close {num(close)} < {num(previous_close)})"
        )
    else:
        thought = f"no signal: close {num(close)} unchanged, streaks reset"
    return thought, metadata


@register_strategy
class Momentum(Strategy):
    """N truly consecutive rising closes enter long; M consecutive falling closes exit."""

    name: ClassVar[str] = "momentum"
    description: ClassVar[str] = "enter after N consecutive rising closes"
    parameters: ClassVar[Mapping[str, Param]] = {
        "bars": Param(3, minimum=1, maximum=1000, description="rising closes in a row to enter"),
        "exit_bars": Param(2, minimum=1, maximum=1000, description="falling closes to exit"),
        "full_strength_pct": Param(
            1.0, minimum=1e-9, description="streak move (percent) that gives strength 1"
        ),
        "allow_short": Param(False, description="mirror the rules for shorts"),
    }

    def _configure(self) -> None:
        self.bars = self._int("bars")
        self.exit_bars = self._int("exit_bars")
        self.full_move = self._float("full_strength_pct") / 100.0
        self.allow_short = self._bool("allow_short")
        self.warmup_bars = max(self.bars, self.exit_bars) + 1

    def _reset(self) -> None:
        self._previous_close = np.nan
        self._up_run = 0
        self._down_run = 0
        self._up_base = np.nan
        self._down_base = np.nan

    def _on_candle(self, candle: Candle, symbol: str) -> Decision:
        close = candle.close
        previous = self._previous_close
        self._previous_close = close
        if close > previous:
            self._up_run += 1
            self._down_run = 0
            self._down_base = close
        elif close < previous:
            self._down_run += 1
            self._up_run = 0
            self._up_base = close
        else:
            self._up_run = self._down_run = 0
            self._up_base = self._down_base = close
        up_run, down_run = self._up_run, self._down_run
        action = _action(up_run, down_run, self.bars, self.exit_bars, self.allow_short)
        move = strength = 0.0
        if action is not _HOLD:
            base = self._up_base if up_run else self._down_base
            move = close / base - 1.0
            strength = _strength(action, move, self.full_move)
        return lazy_decision(
            symbol,
            candle.ts_ms,
            action,
            strength,
            "momentum",
            _render,
            (action, up_run, down_run, self.bars, self.exit_bars, close, previous, move),
        )

    def signals(self, candles: CandleArrays) -> SignalFrame:
        """Vectorised streak lengths (running max of the last reset index), no loop."""
        close = candles.close
        n = len(close)
        previous = np.full(n, np.nan)
        previous[1:] = close[:-1]
        up_run = _run_lengths(close > previous)
        down_run = _run_lengths(close < previous)
        action = np.zeros(n, dtype=np.int8)
        if self.allow_short:
            action[up_run == self.exit_bars] = int(Action.EXIT_SHORT)
        action[down_run == self.exit_bars] = int(Action.EXIT_LONG)
        if self.allow_short:
            action[down_run == self.bars] = int(Action.ENTER_SHORT)
        action[up_run == self.bars] = int(Action.ENTER_LONG)
        index = np.arange(n)
        run = np.where(up_run > 0, up_run, down_run)
        move = np.zeros(n)
        active = action != 0
        move[active] = close[active] / close[(index - run)[active]] - 1.0
        strength = np.where(active, 1.0, 0.0)
        entries = (action == int(Action.ENTER_LONG)) | (action == int(Action.ENTER_SHORT))
        strength[entries] = np.minimum(1.0, np.abs(move[entries]) / self.full_move)
        bars, exit_bars = self.bars, self.exit_bars

        def args_at(i: int) -> tuple[object, ...]:
            return (
                Action(int(action[i])),
                int(up_run[i]),
                int(down_run[i]),
                bars,
                exit_bars,
                float(close[i]),
                float(previous[i]),
                float(move[i]),
            )

        return self._frame(action, strength, _render, args_at)


def _action(up_run: int, down_run: int, bars: int, exit_bars: int, allow_short: bool) -> Action:
    # entries before exits: an entry on an exit bar reverses the position
    if up_run == bars:
        return Action.ENTER_LONG
    if allow_short and down_run == bars:
        return Action.ENTER_SHORT
    if down_run == exit_bars:
        return Action.EXIT_LONG
    if allow_short and up_run == exit_bars:
        return Action.EXIT_SHORT
    return _HOLD


def _strength(action: Action, move: float, full_move: float) -> float:
    if action is Action.ENTER_LONG or action is Action.ENTER_SHORT:
        return min(1.0, abs(move) / full_move)
    return 1.0


def _run_lengths(flags: BoolArray) -> IntArray:
    """Length of the run of True ending at each bar (0 where False); strictly consecutive."""
    index = np.arange(len(flags))
    last_reset = np.maximum.accumulate(np.where(flags, -1, index))
    return np.where(flags, index - last_reset, 0)
