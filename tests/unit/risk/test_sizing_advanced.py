"""RK1: ATR-based and capped-Kelly sizing, rounded by the instrument."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aegis.model.errors import ConfigError
from aegis.model.instrument import Instrument
from aegis.model.signals import Action, Decision
from aegis.risk.sizing_advanced import CappedKellySizer, RoundTripHistory, VolatilitySizer

COARSE = Instrument(
    symbol="BTC/USDT", base="BTC", quote="USDT", tick_size=Decimal("0.01"),
    step_size=Decimal("0.001"),
)  # fmt: skip


def _decision(**metadata: object) -> Decision:
    return Decision("BTC/USDT", 0, Action.ENTER_LONG, 1.0, "cross", "test", metadata)  # type: ignore[arg-type]


def test_volatility_sizing_risks_the_fraction_over_the_stop_distance() -> None:
    # risk 1 % of 10,000 = 100 over a stop 2 x ATR 150 = 300 away: 0.3333.. -> 0.333
    sizer = VolatilitySizer("0.01", 2)
    result = sizer.explain(_decision(atr=150.0), Decimal(30_000), Decimal(10_000), COARSE)
    assert result.quantity == Decimal("0.333")
    assert "2 x ATR 150.0" in result.note
    assert sizer.size(_decision(atr="150"), Decimal(30_000), Decimal(10_000), COARSE) == (
        Decimal("0.333")
    )


def test_volatility_sizing_is_capped_by_notional() -> None:
    # ATR 1: 100 / 2 = 50 BTC, but 50 % of equity at 30,000 is 0.1666.. -> 0.166
    sizer = VolatilitySizer("0.01", 2, max_notional_fraction="0.5")
    result = sizer.explain(_decision(atr=1), Decimal(30_000), Decimal(10_000), COARSE)
    assert result.quantity == Decimal("0.166")
    assert "capped" in result.note


@pytest.mark.parametrize("atr", [None, 0, -1.0, float("nan"), "abc", True])
def test_volatility_sizing_without_a_usable_atr_is_zero_with_the_reason(atr: object) -> None:
    decision = _decision() if atr is None else _decision(atr=atr)
    result = VolatilitySizer("0.01").explain(decision, Decimal(100), Decimal(1_000), COARSE)
    assert result.quantity == 0
    assert "no usable ATR" in result.note


def test_volatility_sizing_rejects_float_config() -> None:
    with pytest.raises(ConfigError, match="risk_fraction"):
        VolatilitySizer(0.01)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="risk_fraction must be in"):
        VolatilitySizer("2")


def _history(wins: int, win: str, losses: int, loss: str) -> RoundTripHistory:
    return RoundTripHistory([Decimal(win)] * wins + [Decimal(loss)] * losses)


def test_kelly_below_the_minimum_falls_back_with_the_reason() -> None:
    sizer = CappedKellySizer(_history(5, "20", 3, "-10"), fallback_fraction="0.1")
    result = sizer.explain(_decision(), Decimal(100), Decimal(1_000), COARSE)
    assert result.quantity == Decimal(1)  # 10 % of 1,000 at 100
    assert "not enough data: 8 round trips, need at least 30" in result.note
    assert "fallback fraction 0.1" in result.note


def test_kelly_is_scaled_and_used_below_the_cap() -> None:
    # p = 0.6, b = 2 -> Kelly 0.4; half Kelly 0.2 of 1,000 at 100 = 2
    sizer = CappedKellySizer(_history(18, "20", 12, "-10"), multiplier="0.5", cap="0.25")
    assert sizer.size(_decision(), Decimal(100), Decimal(1_000), COARSE) == Decimal(2)


def test_kelly_is_capped() -> None:
    sizer = CappedKellySizer(_history(18, "20", 12, "-10"), multiplier=1, cap="0.1")
    result = sizer.explain(_decision(), Decimal(100), Decimal(1_000), COARSE)
    assert result.quantity == Decimal(1)
    assert "capped at 0.1" in result.note


def test_kelly_without_edge_sizes_zero() -> None:
    sizer = CappedKellySizer(_history(12, "5", 18, "-5"))
    result = sizer.explain(_decision(), Decimal(100), Decimal(1_000), COARSE)
    assert result.quantity == 0
    assert "no edge" in result.note


def test_kelly_reads_the_history_as_it_grows() -> None:
    history = _history(18, "20", 11, "-10")
    sizer = CappedKellySizer(history, fallback_fraction="0.01", multiplier=1, cap=1)
    assert sizer.fraction()[0] == Decimal("0.01")
    history.record(Decimal(-10))
    assert sizer.fraction()[0] == Decimal("0.4")
