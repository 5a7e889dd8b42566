"""A bar-by-bar strategy in plain Python on the streaming indicators (benchmark only).

It has no vectorised form (``signals()`` returns None), so the engine walks every candle through
``on_candle`` and the same pipeline: this measures the streaming path's cost per candle.
"""

from __future__ import annotations

import math
from typing import ClassVar

from aegis.indicators import StreamingEma
from aegis.model.candle import Candle
from aegis.model.signals import Action, Decision
from aegis.strategies import Param, Strategy


class StreamingEmaCross(Strategy):
    """EMA(fast) / EMA(slow) crossover, long only, decided one closed candle at a time."""

    name: ClassVar[str] = "bench_streaming_ema_cross"
    parameters: ClassVar = {
        "fast": Param(12, minimum=1, description="fast EMA period"),
        "slow": Param(26, minimum=2, description="slow EMA period"),
    }

    def _configure(self) -> None:
        self.fast = self._int("fast")
        self.slow = self._int("slow")
        self.warmup_bars = self.slow

    def _reset(self) -> None:
        self._fast_ema = StreamingEma(period=self.fast)
        self._slow_ema = StreamingEma(period=self.slow)
        self._previous = math.nan

    def _on_candle(self, candle: Candle, symbol: str) -> Decision:
        fast = self._fast_ema.update(candle.close)
        slow = self._slow_ema.update(candle.close)
        difference = fast - slow
        previous = self._previous
        self._previous = difference
        if previous <= 0.0 < difference:
            action, thought = Action.ENTER_LONG, f"EMA{self.fast} crossed above EMA{self.slow}"
        elif previous > 0.0 >= difference:
            action, thought = Action.EXIT_LONG, f"EMA{self.fast} crossed below EMA{self.slow}"
        else:
            return Decision(symbol, candle.ts_ms, Action.HOLD, 0.0, "no cross", self.name)
        return Decision(symbol, candle.ts_ms, action, 1.0, thought, self.name)
