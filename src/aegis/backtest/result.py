"""What a backtest returns: fills, round trips, decisions, the equity curve and the statistics."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from aegis.backtest.round_trips import RoundTrip, RoundTrips
from aegis.model.events import Fill
from aegis.model.signals import Decision

if TYPE_CHECKING:
    from aegis.backtest.metrics import Metrics

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _json_float(value: Decimal | float | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True, slots=True, eq=False)
class BacktestResult:
    """The outcome of :func:`aegis.backtest.run_backtest`.

    ``equity`` holds the equity at each candle's close (cash plus the position marked at that
    close); ``final_equity`` is its last value in exact Decimal. ``decisions`` lists the
    decisions that led to an order, then the ignored or rejected ones with the reason appended to
    their thought, in time order. ``engine_seconds`` is the run with the candles in memory.
    ``funding_paid`` is the net funding the account paid over ``funding_payments`` settlements
    (negative when it received more than it paid; 0 without a funding series). Each round
    trip's ``pnl`` is net of fees and of the funding settled while it was open, so the closed
    and open round trips' PnL add up to ``final_equity - initial_cash``.
    """

    strategy: str
    params: dict[str, Any]
    symbol: str
    timeframe_ms: int
    candles: int
    fills: list[Fill]
    round_trips: Sequence[RoundTrip]
    decisions: list[Decision]
    equity: FloatArray
    ts_ms: IntArray
    close: FloatArray
    initial_cash: Decimal
    final_equity: Decimal
    fees_paid: Decimal
    metrics: Metrics
    warnings: list[str] = field(default_factory=list)
    engine_seconds: float = 0.0
    entry_fills: int = 0
    funding_paid: Decimal = Decimal(0)
    funding_payments: int = 0

    @property
    def trades(self) -> int:
        """Number of entry fills (the issue's ``trades``)."""
        return self.entry_fills

    @property
    def open_round_trips(self) -> int:
        """Round trips still open at the end (marked at the last close)."""
        trips = self.round_trips
        if isinstance(trips, RoundTrips):
            return trips.open_count  # without building the RoundTrip objects
        return sum(1 for trip in trips if trip.is_open)

    def to_json(self) -> dict[str, Any]:
        """Return one JSON-safe dict (Decimal becomes float here, at the edge)."""
        metrics = self.metrics
        return {
            "strategy": self.strategy,
            "params": dict(self.params),
            "symbol": self.symbol,
            "timeframe_ms": self.timeframe_ms,
            "candles": self.candles,
            "trades": self.entry_fills,
            "round_trips": len(self.round_trips),
            "open_round_trips": self.open_round_trips,
            "initial_cash": _json_float(self.initial_cash),
            "final_equity": _json_float(self.final_equity),
            "total_return": metrics.total_return,
            "sharpe": metrics.sharpe,
            "sortino": metrics.sortino,
            "max_drawdown": metrics.max_drawdown,
            "profit_factor": metrics.profit_factor,
            "exposure": metrics.exposure,
            "win_rate": metrics.win_rate,
            "fees_paid": _json_float(self.fees_paid),
            "funding_paid": _json_float(self.funding_paid),
            "engine_seconds": self.engine_seconds,
            "warnings": list(self.warnings),
            "null_reasons": dict(metrics.null_reasons),
        }
