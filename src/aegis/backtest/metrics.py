"""Backtest performance statistics (BT2); explicit nulls, never misleading numbers (RK4).

Conventions (also in docs/backtesting.md):

- The equity curve holds one value per bar, sampled at the bar's close. The per-bar simple returns
  are ``r[0] = equity[0] / initial_equity - 1`` and ``r[i] = equity[i] / equity[i-1] - 1``, so
  ``n`` bars give ``n`` returns.
- Annualisation uses the real bar interval over 365 days (crypto trades every day):
  ``periods_per_year = 365 * 24 * 3600 * 1000 / bar_interval_ms``. Risk-free rate 0.
- ``sharpe = mean(r) / std(r, ddof=1) * sqrt(periods_per_year)``.
- ``sortino = mean(r) / sqrt(mean(min(r, 0) ** 2)) * sqrt(periods_per_year)`` (downside deviation
  over all ``n`` returns, target 0).
- ``max_drawdown = max((peak - equity) / peak)`` with ``peak`` the running maximum of the curve
  (starting at ``initial_equity``): a positive fraction of the peak, 0 when the curve never falls.
- A statistic that cannot be computed honestly is ``None`` and its reason is in ``null_reasons``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields

import numpy as np

__all__ = [
    "MS_PER_YEAR",
    "ZERO_VARIANCE_STD",
    "Metrics",
    "compute_metrics",
    "not_enough_data",
    "periods_per_year",
]

_BLOCK = 65_536  # bars per block of the drawdown scan: bounds its scratch to ~1 MB

MS_PER_YEAR = 365 * 24 * 3600 * 1000
"""Milliseconds in a 365-day year: crypto markets never close (BT2)."""

ZERO_VARIANCE_STD = 1e-14
"""Return standard deviations at or below this are float64 rounding noise, not risk.

Equity near 1e5 is resolved to about 1.5e-11 in float64, i.e. a relative step of ~1.5e-16; a
Sharpe ratio computed from returns of that size would be a ratio of rounding errors.
"""

_STATISTICS = (
    "total_return",
    "sharpe",
    "sortino",
    "max_drawdown",
    "profit_factor",
    "exposure",
    "win_rate",
    "avg_trade",
)


def not_enough_data(statistic: str, n: int, minimum: int, *, unit: str = "samples") -> str | None:
    """Return the null reason for ``statistic`` when ``n < minimum``, else ``None``.

    Shared by every statistic that needs a minimum sample (RK4), e.g.::

        reason = not_enough_data("sharpe", len(returns), 30, unit="returns")
    """
    if minimum < 1:
        raise ValueError(f"minimum for {statistic} must be >= 1, got {minimum}")
    if n >= minimum:
        return None
    return f"not enough data: {n} {unit}, need at least {minimum} for {statistic}"


def periods_per_year(bar_interval_ms: int) -> float:
    """Return how many bars of ``bar_interval_ms`` fit in a 365-day year."""
    if bar_interval_ms <= 0:
        raise ValueError(f"bar_interval_ms must be positive, got {bar_interval_ms}")
    return MS_PER_YEAR / bar_interval_ms


@dataclass(frozen=True, slots=True)
class Metrics:
    """Backtest statistics; ``None`` means "not computable", with the reason in ``null_reasons``.

    ``total_return``, ``max_drawdown``, ``exposure`` and ``win_rate`` are fractions (0.05 = 5 %);
    ``avg_trade`` is in quote currency; ``sharpe`` and ``sortino`` are annualised.
    """

    total_return: float | None
    sharpe: float | None
    sortino: float | None
    max_drawdown: float | None
    profit_factor: float | None
    exposure: float | None
    win_rate: float | None
    avg_trade: float | None
    n_round_trips: int
    fees_paid: float
    null_reasons: dict[str, str] = field(default_factory=dict, hash=False)

    def to_json(self) -> dict[str, float | int | dict[str, str] | None]:
        """Return a JSON-safe dict: finite floats or ``None``, never NaN or infinity."""
        out: dict[str, float | int | dict[str, str] | None] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "null_reasons":
                out[item.name] = dict(value)
            elif isinstance(value, float) and not math.isfinite(value):
                out[item.name] = None  # unreachable by construction; JSON must stay valid
            else:
                out[item.name] = value
        return out


def _return_blocks(equity: np.ndarray, initial_equity: float) -> Iterator[np.ndarray]:
    """The per-bar returns ``equity[i] / equity[i-1] - 1``, a block at a time (a fresh array each).

    The first return is against ``initial_equity``. Blocks keep the scratch at ~0.5 MB: the
    whole candle-length array of returns and the deviations ``np.std`` builds from it were
    16 MB a million candles, the backtest process's peak memory.
    """
    previous = initial_equity
    for first in range(0, equity.size, _BLOCK):
        block = equity[first : first + _BLOCK]
        returns = np.empty_like(block)
        returns[0] = block[0] / previous
        np.divide(block[1:], block[:-1], out=returns[1:])
        returns -= 1.0
        previous = float(block[-1])
        yield returns


def _max_drawdown(equity: np.ndarray, initial_equity: float) -> float:
    """``max((peak - equity) / peak)``, a block at a time: the running peak is carried over."""
    worst = 0.0
    peak_before = initial_equity
    for first in range(0, equity.size, _BLOCK):
        block = equity[first : first + _BLOCK]
        peak = np.maximum.accumulate(block)
        np.maximum(peak, peak_before, out=peak)
        peak_before = float(peak[-1])
        drawdown = peak - block
        drawdown /= peak
        worst = max(worst, float(drawdown.max()))
    return worst


def _sharpe_sortino(
    equity: np.ndarray,
    initial_equity: float,
    bar_interval_ms: int,
    min_samples: int,
    reasons: dict[str, str],
) -> tuple[float | None, float | None]:
    count = equity.size  # one return per bar
    short = not_enough_data("sharpe and sortino", count, min_samples, unit="returns")
    if short is not None:
        reasons["sharpe"] = reasons["sortino"] = short
        return None, None
    scale = math.sqrt(periods_per_year(bar_interval_ms))
    # two passes over the returns, a block at a time: the mean, then the squared deviations
    # from it (the sample standard deviation) and the downside squares; each block's sum is
    # numpy's pairwise sum, and fsum adds the blocks' sums exactly
    mean = math.fsum(float(np.add.reduce(r)) for r in _return_blocks(equity, initial_equity))
    mean /= count
    deviations: list[float] = []
    downsides: list[float] = []
    for returns in _return_blocks(equity, initial_equity):
        deviation = returns - mean
        np.square(deviation, out=deviation)
        deviations.append(float(np.add.reduce(deviation)))
        np.minimum(returns, 0.0, out=returns)
        np.square(returns, out=returns)
        downsides.append(float(np.add.reduce(returns)))
    std = math.sqrt(math.fsum(deviations) / (count - 1))
    downside = math.sqrt(math.fsum(downsides) / count)
    sharpe: float | None = None
    sortino: float | None = None
    if std <= ZERO_VARIANCE_STD:
        reasons["sharpe"] = f"returns have zero variance (std {std:.3g}): Sharpe undefined"
    else:
        sharpe = mean / std * scale
    if downside <= ZERO_VARIANCE_STD:
        reasons["sortino"] = (
            f"no downside deviation (returns never below 0 by more than {ZERO_VARIANCE_STD:g}): "
            "Sortino undefined"
        )
    else:
        sortino = mean / downside * scale
    return sharpe, sortino


def _trade_statistics(
    pnls: np.ndarray, reasons: dict[str, str]
) -> tuple[float | None, float | None, float | None]:
    """Return (profit_factor, win_rate, avg_trade) of closed round trips."""
    if pnls.size == 0:
        reason = "no round trips"
        reasons["profit_factor"] = f"{reason}: profit factor undefined"
        reasons["win_rate"] = f"{reason}: win rate undefined"
        reasons["avg_trade"] = f"{reason}: average trade undefined"
        return None, None, None
    gross_profit = float(pnls[pnls > 0].sum())
    gross_loss = float(-pnls[pnls < 0].sum())
    profit_factor: float | None = None
    if gross_loss > 0.0:
        ratio = gross_profit / gross_loss
        if math.isfinite(ratio):
            profit_factor = ratio
        else:  # a subnormal loss against any profit: a float overflow, not a statistic
            reasons["profit_factor"] = (
                f"gross loss {gross_loss:.3g} is too small against gross profit "
                f"{gross_profit:.3g}: profit factor overflows"
            )
    else:
        reasons["profit_factor"] = "no losing round trips: profit factor undefined"
    win_rate = float(np.count_nonzero(pnls > 0)) / pnls.size
    return profit_factor, win_rate, float(np.mean(pnls))


def _validate(
    equity: np.ndarray,
    ts_ms: np.ndarray,
    initial_equity: float,
    pnls: np.ndarray,
    exposure_bars: int,
) -> None:
    if equity.ndim != 1 or ts_ms.ndim != 1 or equity.size != ts_ms.size:
        raise ValueError(
            f"equity and ts_ms must be 1-d arrays of equal length, got shapes "
            f"{equity.shape} and {ts_ms.shape}"
        )
    if not (math.isfinite(initial_equity) and initial_equity > 0):
        raise ValueError(f"initial_equity must be finite and positive, got {initial_equity}")
    # a finite sum proves every value finite without a candle-length mask
    bad = np.empty(0, dtype=np.intp)
    if not math.isfinite(float(np.add.reduce(equity))):
        bad = np.flatnonzero(~np.isfinite(equity))
    if bad.size:
        raise ValueError(f"equity is not finite at index {bad[0]}: {equity[bad[0]]}")
    bad = np.flatnonzero(~np.isfinite(pnls))
    if bad.size:
        raise ValueError(f"round_trip_pnls[{bad[0]}] is not finite: {pnls[bad[0]]}")
    if ts_ms.size > 1 and not bool(np.all(ts_ms[1:] > ts_ms[:-1])):
        raise ValueError("ts_ms must be strictly increasing")
    if not 0 <= exposure_bars <= equity.size:
        raise ValueError(f"exposure_bars must be in [0, {equity.size}], got {exposure_bars}")


def compute_metrics(
    *,
    equity: np.ndarray,
    ts_ms: np.ndarray,
    bar_interval_ms: int,
    initial_equity: float,
    round_trip_pnls: Sequence[float],
    exposure_bars: int,
    fees_paid: float,
    min_samples: int = 30,
) -> Metrics:
    """Compute the backtest statistics of one equity curve and its closed round trips.

    Args:
        equity: equity at each bar's close (quote currency), one value per candle.
        ts_ms: the candles' open times, same length as ``equity``.
        bar_interval_ms: the timeframe; the annualisation uses it, not the wall-clock span, so a
            gap in the data counts as one bar (the backtest never invents candles).
        initial_equity: equity before the first bar (the starting cash), > 0.
        round_trip_pnls: net PnL (after fees) of each closed round trip, in quote currency.
        exposure_bars: number of bars that ended with a position open.
        fees_paid: total fees, reported as is.
        min_samples: fewest returns for which Sharpe and Sortino are reported (RK4).

    Raises:
        ValueError: mismatched lengths, a non-finite value, a non-positive initial equity,
            timestamps that do not increase, or ``exposure_bars`` out of range.
    """
    equity = np.asarray(equity, dtype=np.float64)
    ts_ms = np.asarray(ts_ms)
    pnls = np.asarray(round_trip_pnls, dtype=np.float64).reshape(-1)
    _validate(equity, ts_ms, initial_equity, pnls, exposure_bars)
    if min_samples < 2:
        raise ValueError(
            f"min_samples must be >= 2 (a standard deviation needs two), got {min_samples}"
        )
    periods_per_year(bar_interval_ms)  # validates the interval even when no ratio is computed
    reasons: dict[str, str] = {}

    total_return = max_drawdown = exposure = sharpe = sortino = None
    if equity.size == 0:
        for name in ("total_return", "max_drawdown", "exposure"):
            reasons[name] = f"no bars: {name.replace('_', ' ')} undefined"
        reasons["sharpe"] = reasons["sortino"] = "no bars: no returns"
    else:
        total_return = float(equity[-1] / initial_equity - 1.0)
        max_drawdown = _max_drawdown(equity, initial_equity)
        exposure = exposure_bars / equity.size
        if np.any(equity <= 0):
            reason = "equity reached zero or below: per-bar returns undefined"
            reasons["sharpe"] = reasons["sortino"] = reason
        else:
            sharpe, sortino = _sharpe_sortino(
                equity, initial_equity, bar_interval_ms, min_samples, reasons
            )
    profit_factor, win_rate, avg_trade = _trade_statistics(pnls, reasons)
    return Metrics(
        total_return=total_return,
        sharpe=sharpe,
        sortino=sortino,
        max_drawdown=max_drawdown,
        profit_factor=profit_factor,
        exposure=exposure,
        win_rate=win_rate,
        avg_trade=avg_trade,
        n_round_trips=int(pnls.size),
        fees_paid=float(fees_paid),
        null_reasons=reasons,
    )
