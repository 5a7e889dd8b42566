"""Built-in strategies; importing this package registers them with the default registry."""

from .candlestick import CandlestickReversal
from .ema_cross import EmaCross
from .keltner import KeltnerBreakout
from .mean_reversion import MeanReversion
from .momentum import Momentum
from .trend import EmaAdxTrend

__all__ = [
    "CandlestickReversal",
    "EmaAdxTrend",
    "EmaCross",
    "KeltnerBreakout",
    "MeanReversion",
    "Momentum",
]
