"""Small builders for strategy tests: candle arrays from lists, and Candle rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from aegis.model.candle import Candle
from aegis.model.signals import Decision
from aegis.strategies import Strategy

MINUTE_MS = 60_000


@dataclass(frozen=True)
class Arrays:
    """Minimal CandleArrays implementation (no dependency on aegis.data)."""

    ts_ms: npt.NDArray[np.int64]
    open: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    close: npt.NDArray[np.float64]
    volume: npt.NDArray[np.float64]
    symbol: str | None = "TEST/USDT"

    def __len__(self) -> int:
        return len(self.close)


Floats = Sequence[float] | npt.NDArray[np.float64]


def make_arrays(
    close: Floats,
    open_: Floats | None = None,
    high: Floats | None = None,
    low: Floats | None = None,
) -> Arrays:
    c = np.asarray(close, dtype=np.float64)
    o = c.copy() if open_ is None else np.asarray(open_, dtype=np.float64)
    h = np.maximum(o, c) if high is None else np.asarray(high, dtype=np.float64)
    lo = np.minimum(o, c) if low is None else np.asarray(low, dtype=np.float64)
    ts = np.arange(len(c), dtype=np.int64) * MINUTE_MS
    return Arrays(ts, o, h, lo, c, np.ones(len(c)))


def rows(candles: Arrays) -> list[Candle]:
    return [
        Candle(
            int(candles.ts_ms[i]),
            float(candles.open[i]),
            float(candles.high[i]),
            float(candles.low[i]),
            float(candles.close[i]),
            float(candles.volume[i]),
        )
        for i in range(len(candles.close))
    ]


def stream(strategy: Strategy, candles: Arrays, symbol: str = "TEST/USDT") -> list[Decision]:
    return [strategy.on_candle(candle, symbol) for candle in rows(candles)]


def random_walk(n: int, seed: int) -> Arrays:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    open_ = np.concatenate([[100.0], close[:-1]]) * (1 + rng.normal(0.0, 0.002, n))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0.0, 0.003, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0.0, 0.003, n)))
    return make_arrays(close, open_, high, low)
