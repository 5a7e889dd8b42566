"""Spike filter for incoming candles (EX5): a bool answer, a configurable threshold, a count."""

from __future__ import annotations

import math
from typing import Final

from aegis.model.candle import Candle

#: Default maximum close-to-close move: crypto really moves 20 % within one candle (the real
#: 2021-12-04 XRP perpetual flash crash closed 18.6 % lower, -20.6 % as a log return).
DEFAULT_THRESHOLD: Final = 0.25


class OutlierFilter:
    """Reject candles whose close moved more than ``threshold`` (a fraction) from the last close.

    A candle with a non-finite or non-positive price, or an inconsistent range (high below low,
    open or close outside high..low) is rejected whatever the threshold.
    """

    __slots__ = ("_rejections", "threshold")

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        if not math.isfinite(threshold) or threshold <= 0:
            raise ValueError(
                f"outlier threshold must be a positive finite fraction (0.25 = 25 %), "
                f"got {threshold!r}"
            )
        self.threshold = float(threshold)
        self._rejections = 0

    @property
    def rejections(self) -> int:
        """How many candles `accept` has refused so far."""
        return self._rejections

    def accept(self, previous_close: float | None, candle: Candle, *, symbol: str = "") -> bool:
        """Return True to keep ``candle``, False to drop it (counted and logged).

        ``previous_close`` is the close of the last accepted candle, None for the first one.
        """
        reason = self._problem(previous_close, candle)
        if reason is None:
            return True
        self._rejections += 1
        # structlog (and the rich it loads) only when a candle is rejected: `aegis backtest`
        # imports this package and must not pay 60 ms for a logger it never uses.
        import structlog

        structlog.get_logger(__name__).warning(
            "candle_rejected",
            symbol=symbol,
            ts_ms=candle.ts_ms,
            close=candle.close,
            previous_close=previous_close,
            reason=reason,
            threshold=self.threshold,
            rejections=self._rejections,
        )
        return False

    def _problem(self, previous_close: float | None, candle: Candle) -> str | None:
        prices = (candle.open, candle.high, candle.low, candle.close)
        if not all(math.isfinite(p) and p > 0 for p in prices):
            return "invalid_price"
        if candle.high < max(candle.open, candle.close) or candle.low > min(
            candle.open, candle.close
        ):
            return "inconsistent_range"
        if previous_close is None:
            return None
        if not (math.isfinite(previous_close) and previous_close > 0):
            raise ValueError(f"previous_close must be a positive price, got {previous_close!r}")
        if abs(candle.close / previous_close - 1.0) > self.threshold:
            return "close_jump"
        return None
