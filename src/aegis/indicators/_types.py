"""Named multi-output results, shared by the vectorised and the streaming forms."""

from __future__ import annotations

from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")


class BollingerBands(NamedTuple, Generic[T]):
    """SMA ± num_std · population standard deviation."""

    upper: T
    middle: T
    lower: T


class KeltnerChannels(NamedTuple, Generic[T]):
    """EMA(close) ± multiplier · ATR."""

    upper: T
    middle: T
    lower: T


class Macd(NamedTuple, Generic[T]):
    """MACD line (fast EMA - slow EMA), its signal EMA and the histogram (macd - signal)."""

    macd: T
    signal: T
    hist: T


class Stochastic(NamedTuple, Generic[T]):
    """TA-Lib STOCH: slow %K (SMA of fast %K) and %D (SMA of slow %K)."""

    k: T
    d: T
