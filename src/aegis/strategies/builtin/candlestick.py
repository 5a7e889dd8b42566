"""``candlestick_reversal``: hammer and engulfing patterns computed on the candles' REAL opens.

The audited bot used the previous close as the open; on crypto the open often differs from the
previous close (gaps, thin books), so the patterns here read ``open`` itself.

- hammer (bullish): range > 0, body > 0, lower shadow >= ``hammer_shadow_ratio`` x body,
  upper shadow <= ``hammer_max_upper`` x body, after a decline (previous close below the close
  ``trend_bars`` bars before it);
- bullish engulfing: previous candle red, current green, current body covers the previous body
  (open <= previous close, close >= previous open) and is strictly larger;
- bearish engulfing: the mirror image.

Bullish pattern -> ENTER_LONG; bearish engulfing -> EXIT_LONG (ENTER_SHORT with
``allow_short``: an entry reverses). Both kinds on one candle -> HOLD ("conflicting").
Strength: the decisive part's share of the candle's range (body for engulfing, lower shadow for
the hammer), the larger one when two bullish patterns coincide.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from aegis.model.candle import Candle
from aegis.model.signals import Action, Decision

from .._decision import lazy_decision
from .._params import Param
from ..base import CandleArrays, SignalFrame, Strategy
from ..registry import register_strategy
from ._arrays import shift

_NAMES = ("hammer", "bullish engulfing", "bearish engulfing")


def _render(
    action: Action, hammer: bool, bullish: bool, bearish: bool, strength: float, ready: bool
) -> tuple[str, Mapping[str, object]]:
    found = [name for name, hit in zip(_NAMES, (hammer, bullish, bearish), strict=True) if hit]
    metadata = {"patterns": found, "strength": strength}
    if action is Action.ENTER_LONG:
        return f"enter long: {' and '.join(found)} (real open)", metadata
    if action is Action.EXIT_LONG:
        return "exit long: bearish engulfing (real open)", metadata
    if action is Action.ENTER_SHORT:
        return "enter short: bearish engulfing (real open)", metadata
    if found:
        return f"no signal: conflicting patterns {', '.join(found)}", metadata
    if not ready:
        return "no signal: no engulfing pattern; a hammer needs the prior decline", metadata
    return "no signal: no hammer or engulfing pattern", metadata


@register_strategy
class CandlestickReversal(Strategy):
    """Hammer / bullish engulfing enter long; bearish engulfing exits (or enters short)."""

    name: ClassVar[str] = "candlestick_reversal"
    description: ClassVar[str] = "hammer and engulfing reversal patterns on real opens"
    parameters: ClassVar[Mapping[str, Param]] = {
        "hammer_shadow_ratio": Param(2.0, minimum=0.0, description="lower shadow / body"),
        "hammer_max_upper": Param(0.5, minimum=0.0, description="max upper shadow / body"),
        "trend_bars": Param(3, minimum=1, maximum=500, description="decline look-back"),
        "allow_short": Param(False, description="bearish engulfing enters short"),
    }

    def _configure(self) -> None:
        self.shadow_ratio = self._float("hammer_shadow_ratio")
        self.max_upper = self._float("hammer_max_upper")
        self.trend_bars = self._int("trend_bars")
        self.allow_short = self._bool("allow_short")
        self.bearish_action = Action.ENTER_SHORT if self.allow_short else Action.EXIT_LONG
        self.warmup_bars = self.trend_bars + 2

    def _reset(self) -> None:
        self._closes: deque[float] = deque(maxlen=self.trend_bars + 1)
        self._previous_open = np.nan

    def _on_candle(self, candle: Candle, symbol: str) -> Decision:
        o, h, low, c = candle.open, candle.high, candle.low, candle.close
        closes = self._closes
        po = self._previous_open
        ready = len(closes) == closes.maxlen
        pc = closes[-1] if closes else np.nan
        declined = ready and closes[-1] < closes[0]
        self._previous_open = o
        closes.append(c)
        rng = h - low
        body = abs(c - o)
        top, bottom = max(o, c), min(o, c)
        lower = bottom - low
        hammer = bool(
            declined
            and rng > 0
            and body > 0
            and lower >= self.shadow_ratio * body
            and h - top <= self.max_upper * body
        )
        previous_body = abs(pc - po)
        bigger = body > previous_body
        bullish = bool(pc < po and c > o and o <= pc and c >= po and bigger)
        bearish = bool(pc > po and c < o and o >= pc and c <= po and bigger)
        action, strength = _decide(hammer, bullish, bearish, lower, body, rng, self.bearish_action)
        return lazy_decision(
            symbol,
            candle.ts_ms,
            action,
            strength,
            "candlestick_reversal",
            _render,
            (action, hammer, bullish, bearish, strength, ready),
        )

    def signals(self, candles: CandleArrays) -> SignalFrame:
        """Vectorised patterns on shifted arrays of the real opens and closes."""
        o, h, low, c = candles.open, candles.high, candles.low, candles.close
        n = len(c)
        po, pc = shift(o, 1), shift(c, 1)
        k = self.trend_bars
        ready = np.arange(n) >= k + 1
        declined = ready & (pc < shift(c, k + 1))
        rng = h - low
        body = np.abs(c - o)
        lower = np.minimum(o, c) - low
        upper = h - np.maximum(o, c)
        hammer = (
            declined
            & (rng > 0)
            & (body > 0)
            & (lower >= self.shadow_ratio * body)
            & (upper <= self.max_upper * body)
        )
        bigger = body > np.abs(pc - po)
        bullish = (pc < po) & (c > o) & (o <= pc) & (c >= po) & bigger
        bearish = (pc > po) & (c < o) & (o >= pc) & (c <= po) & bigger
        buy = hammer | bullish
        action = np.zeros(n, dtype=np.int8)
        action[buy & ~bearish] = int(Action.ENTER_LONG)
        action[bearish & ~buy] = int(self.bearish_action)
        with np.errstate(divide="ignore", invalid="ignore"):
            hammer_share = np.where(hammer, lower / rng, 0.0)
            body_share = np.where(bullish | bearish, body / rng, 0.0)
        strength = np.where(action != 0, np.minimum(1.0, np.maximum(hammer_share, body_share)), 0.0)

        def args_at(i: int) -> tuple[object, ...]:
            return (
                Action(int(action[i])),
                bool(hammer[i]),
                bool(bullish[i]),
                bool(bearish[i]),
                float(strength[i]),
                bool(ready[i]),
            )

        return self._frame(action, strength, _render, args_at)


def _decide(
    hammer: bool,
    bullish: bool,
    bearish: bool,
    lower: float,
    body: float,
    rng: float,
    bearish_action: Action,
) -> tuple[Action, float]:
    buy = hammer or bullish
    if buy == bearish:  # nothing, or conflicting patterns
        return Action.HOLD, 0.0
    share = 0.0
    if hammer:
        share = lower / rng
    if bullish or bearish:
        share = max(share, body / rng)
    return (Action.ENTER_LONG if buy else bearish_action), min(1.0, share)
