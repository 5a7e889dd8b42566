"""Technical indicators in two forms that agree bar for bar, following TA-Lib's conventions.

Vectorised functions work on whole float64 arrays (NaN during warm-up) for backtests; streaming
classes update one bar at a time for live strategies and can be snapshotted with ``state()`` and
restored with ``from_state()``. See docs/indicators.md.
"""

from aegis.indicators._common import InvalidIndicatorParameter
from aegis.indicators._streaming_base import StreamingIndicator
from aegis.indicators._types import BollingerBands, KeltnerChannels, Macd, Stochastic
from aegis.indicators.averages import bollinger, ema, keltner, macd, sma, vwap
from aegis.indicators.oscillators import adx, atr, rsi, stochastic
from aegis.indicators.streaming_averages import (
    StreamingBollinger,
    StreamingEma,
    StreamingKeltner,
    StreamingMacd,
    StreamingSma,
    StreamingVwap,
)
from aegis.indicators.streaming_oscillators import (
    StreamingAdx,
    StreamingAtr,
    StreamingRsi,
    StreamingStochastic,
)

__all__ = [
    "BollingerBands",
    "InvalidIndicatorParameter",
    "KeltnerChannels",
    "Macd",
    "Stochastic",
    "StreamingAdx",
    "StreamingAtr",
    "StreamingBollinger",
    "StreamingEma",
    "StreamingIndicator",
    "StreamingKeltner",
    "StreamingMacd",
    "StreamingRsi",
    "StreamingSma",
    "StreamingStochastic",
    "StreamingVwap",
    "adx",
    "atr",
    "bollinger",
    "ema",
    "keltner",
    "macd",
    "rsi",
    "sma",
    "stochastic",
    "vwap",
]
