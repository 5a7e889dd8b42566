"""Backtest statistics: hand-computed values, annualisation (BT2) and null reasons (RK4)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aegis.backtest.metrics import (
    MS_PER_YEAR,
    Metrics,
    compute_metrics,
    not_enough_data,
    periods_per_year,
)

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000


def _metrics(
    equity: list[float],
    *,
    bar_interval_ms: int = DAY_MS,
    initial_equity: float = 100.0,
    pnls: list[float] | None = None,
    exposure_bars: int = 0,
    min_samples: int = 30,
) -> Metrics:
    values = np.asarray(equity, dtype=np.float64)
    return compute_metrics(
        equity=values,
        ts_ms=np.arange(values.size, dtype=np.int64) * MINUTE_MS,
        bar_interval_ms=bar_interval_ms,
        initial_equity=initial_equity,
        round_trip_pnls=[] if pnls is None else pnls,
        exposure_bars=exposure_bars,
        fees_paid=1.5,
        min_samples=min_samples,
    )


def test_sharpe_sortino_drawdown_match_hand_computation() -> None:
    # returns +10 %, -10 %, +10 % from 100: 110, 99, 108.9
    metrics = _metrics([110.0, 99.0, 108.9], min_samples=3)
    mean = 0.1 / 3
    std = math.sqrt(((0.1 - mean) ** 2 * 2 + (-0.1 - mean) ** 2) / 2)  # ddof=1
    downside = math.sqrt(0.01 / 3)  # sqrt(mean(min(r, 0)^2)) over all 3 returns
    assert metrics.sharpe == pytest.approx(mean / std * math.sqrt(365), rel=1e-12)
    assert metrics.sharpe == pytest.approx(5.515131, rel=1e-6)
    assert metrics.sortino == pytest.approx(mean / downside * math.sqrt(365), rel=1e-12)
    assert metrics.sortino == pytest.approx(11.030261, rel=1e-6)
    assert metrics.max_drawdown == pytest.approx(0.1, rel=1e-12)  # 110 -> 99
    assert metrics.total_return == pytest.approx(0.089, rel=1e-12)
    assert metrics.null_reasons == {
        "profit_factor": "no round trips: profit factor undefined",
        "win_rate": "no round trips: win rate undefined",
        "avg_trade": "no round trips: average trade undefined",
    }


def test_first_return_is_measured_from_initial_equity() -> None:
    # a drop on the very first bar is a drawdown from the starting cash
    metrics = _metrics([80.0, 90.0, 100.0, 120.0], min_samples=4)
    assert metrics.max_drawdown == pytest.approx(0.2)
    returns = np.array([-0.2, 90 / 80 - 1, 100 / 90 - 1, 0.2])
    expected = returns.mean() / returns.std(ddof=1) * math.sqrt(365)
    assert metrics.sharpe == pytest.approx(expected, rel=1e-12)


def test_drawdown_is_zero_for_a_rising_curve() -> None:
    assert _metrics([101.0, 102.0, 103.0]).max_drawdown == 0.0


def test_trade_statistics_match_hand_computation() -> None:
    metrics = _metrics([100.0] * 4, pnls=[10.0, -4.0, 6.0, -1.0], exposure_bars=3)
    assert metrics.profit_factor == pytest.approx(16 / 5)
    assert metrics.win_rate == pytest.approx(0.5)
    assert metrics.avg_trade == pytest.approx(2.75)
    assert metrics.n_round_trips == 4
    assert metrics.exposure == pytest.approx(0.75)
    assert metrics.fees_paid == 1.5


def test_profit_factor_is_zero_when_every_trade_loses() -> None:
    metrics = _metrics([100.0], pnls=[-1.0, -2.0])
    assert metrics.profit_factor == 0.0
    assert metrics.win_rate == 0.0


def test_annualisation_uses_the_real_bar_interval() -> None:
    rng = np.random.default_rng(7)
    equity = list(100.0 * np.cumprod(1.0 + rng.normal(0.0005, 0.01, 200)))
    minute = _metrics(equity, bar_interval_ms=MINUTE_MS)
    hour = _metrics(equity, bar_interval_ms=HOUR_MS)
    assert minute.sharpe is not None
    assert hour.sharpe is not None
    assert minute.sortino is not None
    assert hour.sortino is not None
    assert minute.sharpe / hour.sharpe == pytest.approx(math.sqrt(60), rel=1e-12)
    assert minute.sortino / hour.sortino == pytest.approx(math.sqrt(60), rel=1e-12)
    assert periods_per_year(MINUTE_MS) == 525_600
    assert periods_per_year(HOUR_MS) == 8_760
    assert periods_per_year(DAY_MS) == 365  # crypto: 365 days, not 252
    assert MS_PER_YEAR == 365 * DAY_MS


def test_short_series_gives_null_sharpe_with_reason() -> None:
    metrics = _metrics([101.0, 99.0, 102.0, 98.0, 103.0])
    assert metrics.sharpe is None
    assert metrics.sortino is None
    expected = "not enough data: 5 returns, need at least 30 for sharpe and sortino"
    assert metrics.null_reasons["sharpe"] == expected
    assert metrics.null_reasons["sortino"] == expected
    assert metrics.max_drawdown is not None  # drawdown needs no minimum sample


def test_flat_equity_gives_null_sharpe_and_sortino_not_zero() -> None:
    metrics = _metrics([100.0] * 40)
    assert metrics.sharpe is None
    assert metrics.sortino is None
    assert metrics.null_reasons["sharpe"].startswith("returns have zero variance")
    assert metrics.null_reasons["sharpe"].endswith("Sharpe undefined")
    assert "Sortino undefined" in metrics.null_reasons["sortino"]
    assert metrics.total_return == 0.0
    assert metrics.max_drawdown == 0.0


def test_rounding_noise_counts_as_zero_variance() -> None:
    # a position of 0.001 units at 3e-5 moves 1e5 of equity by less than float resolution
    equity = [100_000.0 + (1e-11 if i % 2 else 0.0) for i in range(40)]
    metrics = _metrics(equity, initial_equity=100_000.0)
    assert metrics.sharpe is None
    assert "zero variance" in metrics.null_reasons["sharpe"]


def test_only_gains_gives_null_sortino_with_reason() -> None:
    equity = list(100.0 * np.cumprod(np.full(40, 1.001) + np.linspace(0, 0.001, 40)))
    metrics = _metrics(equity)
    assert metrics.sharpe is not None
    assert metrics.sortino is None
    assert "Sortino undefined" in metrics.null_reasons["sortino"]


def test_no_losing_round_trips_gives_null_profit_factor() -> None:
    metrics = _metrics([100.0], pnls=[3.0, 0.0, 5.0])
    assert metrics.profit_factor is None
    assert metrics.null_reasons["profit_factor"] == (
        "no losing round trips: profit factor undefined"
    )
    assert metrics.win_rate == pytest.approx(2 / 3)  # a zero-PnL trade is not a win


def test_no_trades_gives_null_trade_statistics() -> None:
    metrics = _metrics([100.0] * 3)
    assert metrics.profit_factor is None
    assert metrics.win_rate is None
    assert metrics.avg_trade is None
    assert metrics.n_round_trips == 0
    assert metrics.exposure == 0.0
    for name in ("profit_factor", "win_rate", "avg_trade"):
        assert metrics.null_reasons[name].startswith("no round trips")


def test_empty_run_gives_nulls_with_reasons() -> None:
    metrics = _metrics([])
    for name in ("total_return", "sharpe", "sortino", "max_drawdown", "exposure"):
        assert getattr(metrics, name) is None
        assert name in metrics.null_reasons


def test_ruined_equity_gives_null_ratios() -> None:
    equity = [100.0 - i * 5 for i in range(1, 41)]  # reaches 0 and goes negative
    metrics = _metrics(equity)
    assert metrics.sharpe is None
    assert "equity reached zero" in metrics.null_reasons["sharpe"]


def test_json_is_strict_json_with_null_reasons() -> None:
    metrics = _metrics([100.0] * 40, pnls=[1.0])
    text = json.dumps(metrics.to_json(), allow_nan=False)
    data = json.loads(text)
    assert data["sharpe"] is None
    assert data["profit_factor"] is None
    assert set(data["null_reasons"]) == {"sharpe", "sortino", "profit_factor"}
    assert data["n_round_trips"] == 1


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(min_value=1e-3, max_value=1e9), min_size=0, max_size=80),
    st.lists(st.floats(min_value=-1e6, max_value=1e6), max_size=20),
)
def test_any_curve_gives_valid_json_and_drawdown_in_range(
    equity: list[float], pnls: list[float]
) -> None:
    metrics = _metrics(equity, pnls=pnls)
    data = json.loads(json.dumps(metrics.to_json(), allow_nan=False))
    for name in ("total_return", "sharpe", "sortino", "max_drawdown", "profit_factor"):
        assert (data[name] is None) == (name in data["null_reasons"])
    if metrics.max_drawdown is not None:
        assert 0.0 <= metrics.max_drawdown < 1.0


def test_not_enough_data_is_reusable() -> None:
    assert not_enough_data("risk of ruin", 100, 100) is None
    assert not_enough_data("risk of ruin", 3, 20, unit="round trips") == (
        "not enough data: 3 round trips, need at least 20 for risk of ruin"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"initial_equity": 0.0}, "initial_equity must be finite and positive, got 0.0"),
        ({"bar_interval_ms": 0}, "bar_interval_ms must be positive, got 0"),
        ({"exposure_bars": 5}, "exposure_bars must be in [0, 3], got 5"),
        ({"pnls": [1.0, math.nan]}, "round_trip_pnls[1] is not finite"),
        ({"min_samples": 1}, "min_samples must be >= 2"),
    ],
)
def test_bad_input_is_rejected_with_the_value(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        _metrics([100.0, 101.0, 102.0], **kwargs)  # type: ignore[arg-type]  # parametrised
    assert message in str(caught.value)


def test_non_finite_equity_is_rejected_with_its_index() -> None:
    with pytest.raises(ValueError, match="equity is not finite at index 1: inf"):
        _metrics([100.0, math.inf])


def test_mismatched_timestamps_are_rejected() -> None:
    with pytest.raises(ValueError, match="equal length"):
        compute_metrics(
            equity=np.ones(3),
            ts_ms=np.arange(2),
            bar_interval_ms=MINUTE_MS,
            initial_equity=1.0,
            round_trip_pnls=[],
            exposure_bars=0,
            fees_paid=0.0,
        )


def test_profit_factor_that_overflows_is_null_with_a_reason() -> None:
    # found by hypothesis: 2.0 / 1.1e-308 is infinite, which JSON cannot carry
    metrics = _metrics([], pnls=[2.0, -1.1125369292536007e-308])
    assert metrics.profit_factor is None
    assert "overflows" in metrics.null_reasons["profit_factor"]


@pytest.mark.parametrize("bars", [65_535, 65_536, 65_537, 200_003])
def test_sharpe_and_sortino_over_blocks_equal_the_whole_array_formula(bars: int) -> None:
    # longer than one block of the two-pass computation: a return that straddles a block
    # boundary (equity[i] / equity[i - 1] across two blocks) must count exactly once
    rng = np.random.default_rng(bars)
    equity = 100.0 * np.cumprod(1.0 + rng.normal(0.0002, 0.01, bars))
    # a jump right at the first block boundary, which a block that restarted from the
    # initial equity (or skipped the boundary's return) would miss
    equity[65_536 % bars :] *= 1.5
    returns = np.empty(bars)
    returns[0] = equity[0] / 100.0 - 1.0
    returns[1:] = equity[1:] / equity[:-1] - 1.0
    scale = math.sqrt(periods_per_year(MINUTE_MS))
    sharpe = returns.mean() / returns.std(ddof=1) * scale
    sortino = returns.mean() / math.sqrt(np.mean(np.minimum(returns, 0.0) ** 2)) * scale
    metrics = _metrics(list(equity), bar_interval_ms=MINUTE_MS)
    assert metrics.sharpe == pytest.approx(sharpe, rel=1e-12)
    assert metrics.sortino == pytest.approx(sortino, rel=1e-12)
