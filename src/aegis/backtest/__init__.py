"""Backtesting: the history runner, its result, statistics (BT2, RK4) and the HTML report."""

from typing import TYPE_CHECKING, Any

from aegis.backtest.config import DEFAULT_FRACTION, BacktestConfig
from aegis.backtest.equity import equity_curve
from aegis.backtest.inputs import check_funding_target, load_instrument
from aegis.backtest.metrics import Metrics, compute_metrics
from aegis.backtest.result import BacktestResult
from aegis.backtest.round_trips import RoundTrip, RoundTrips, build_round_trips, iter_round_trips
from aegis.backtest.runner import DEFAULT_SYMBOL, Progress, run_backtest

if TYPE_CHECKING:
    from aegis.backtest.report import write_report

__all__ = [
    "DEFAULT_FRACTION",
    "DEFAULT_SYMBOL",
    "BacktestConfig",
    "BacktestResult",
    "Metrics",
    "Progress",
    "RoundTrip",
    "RoundTrips",
    "build_round_trips",
    "check_funding_target",
    "compute_metrics",
    "equity_curve",
    "iter_round_trips",
    "load_instrument",
    "run_backtest",
    "write_report",
]


def __getattr__(name: str) -> Any:
    # The report (plotly and friends) is loaded only when asked for: `aegis backtest` without
    # --report must not pay for it (3 s budget for the whole process).
    if name == "write_report":
        from aegis.backtest.report import write_report

        return write_report
    raise AttributeError(f"module 'aegis.backtest' has no attribute {name!r}")
