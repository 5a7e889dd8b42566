"""RK4: statistics say "not enough data" below the minimum sample instead of a number."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aegis.risk.statistics import (
    Statistic,
    classic_risk_of_ruin,
    expectancy,
    kelly_fraction,
    not_enough_data,
    risk_of_ruin,
    win_loss,
)


def _trips(wins: int, win: str, losses: int, loss: str) -> list[Decimal]:
    return [Decimal(win)] * wins + [Decimal(loss)] * losses


def test_not_enough_data_names_the_statistic_and_the_counts() -> None:
    assert not_enough_data("kelly", 29, 30) == (
        "not enough data: 29 round trips, need at least 30 for kelly"
    )
    assert not_enough_data("kelly", 30, 30) is None


@pytest.mark.parametrize("function", [expectancy, kelly_fraction])
def test_statistics_are_null_below_the_default_minimum(function: object) -> None:
    statistic = function(_trips(20, "10", 9, "-5"))  # type: ignore[operator]
    assert statistic.value is None
    assert "not enough data: 29 round trips, need at least 30" in statistic.reason


def test_risk_of_ruin_is_null_below_a_configured_minimum() -> None:
    statistic = risk_of_ruin(_trips(40, "10", 9, "-5"), Decimal(100), minimum=50)
    assert statistic == Statistic(
        None, "not enough data: 49 round trips, need at least 50 for risk_of_ruin"
    )


def test_expectancy_is_the_mean_net_pnl() -> None:
    # 20 x +10 and 10 x -5 = 150 over 30 trips
    assert expectancy(_trips(20, "10", 10, "-5")).value == pytest.approx(5.0)


def test_kelly_from_win_rate_and_payoff_ratio() -> None:
    # p = 0.6, b = 20 / 10 = 2: f = 0.6 - 0.4 / 2 = 0.4
    statistic = kelly_fraction(_trips(18, "20", 12, "-10"))
    assert statistic.value == pytest.approx(0.4)


def test_kelly_is_negative_without_an_edge() -> None:
    # p = 0.4, b = 1: f = 0.4 - 0.6 = -0.2
    assert kelly_fraction(_trips(12, "5", 18, "-5")).value == pytest.approx(-0.2)


def test_kelly_without_a_losing_trip_is_undefined_not_all_in() -> None:
    statistic = kelly_fraction(_trips(30, "5", 0, "-1"))
    assert statistic.value is None
    assert "no losing round trip" in (statistic.reason or "")


def test_break_even_trips_are_not_wins() -> None:
    stats = win_loss([Decimal(1), Decimal(0), Decimal(-1), Decimal(-3)])
    assert stats.win_rate == Decimal("0.25")
    assert stats.payoff_ratio == Decimal("0.5")  # 1 / mean(1, 3)


def test_statistic_has_a_value_or_a_reason_never_both() -> None:
    with pytest.raises(ValueError, match="either a value or a reason"):
        Statistic(1.0, "why")
    with pytest.raises(ValueError, match="either a value or a reason"):
        Statistic(None)
    assert Statistic(None, "x").to_json() == {"value": None, "reason": "x"}


def test_risk_of_ruin_certain_and_impossible_cases() -> None:
    assert risk_of_ruin(_trips(0, "1", 30, "-1"), Decimal(10), horizon=20).value == 1.0
    assert risk_of_ruin(_trips(30, "1", 0, "-1"), Decimal(10)).value == 0.0


def test_risk_of_ruin_is_reproducible_for_a_seed() -> None:
    trips = _trips(16, "1", 14, "-1")
    first = risk_of_ruin(trips, Decimal(5), ruin_fraction=1.0, paths=300, seed=7)
    assert first == risk_of_ruin(trips, Decimal(5), ruin_fraction=1.0, paths=300, seed=7)


def test_risk_of_ruin_monte_carlo_agrees_with_the_classic_formula() -> None:
    # even-money bets, p = 0.6, 3 units of capital: (0.4 / 0.6) ** 3 = 0.2963
    trips = _trips(18, "1", 12, "-1")
    expected = classic_risk_of_ruin(0.6, 3)
    assert expected == pytest.approx((0.4 / 0.6) ** 3)
    estimate = risk_of_ruin(trips, Decimal(3), ruin_fraction=1.0, horizon=400, paths=1_500)
    assert estimate.value == pytest.approx(expected, abs=0.04)


def test_classic_risk_of_ruin_without_edge_is_certain() -> None:
    assert classic_risk_of_ruin(0.5, 10) == 1.0
    with pytest.raises(ValueError, match="win_rate"):
        classic_risk_of_ruin(1.5, 1)


def test_risk_of_ruin_rejects_bad_inputs() -> None:
    trips = _trips(15, "1", 15, "-1")
    with pytest.raises(ValueError, match="capital"):
        risk_of_ruin(trips, Decimal(0))
    with pytest.raises(ValueError, match="ruin_fraction"):
        risk_of_ruin(trips, Decimal(1), ruin_fraction=0)
