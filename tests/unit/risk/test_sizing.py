"""Position sizing: fixed quantity and fraction of equity, rounded by the instrument."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aegis.model.errors import ConfigError
from aegis.model.instrument import Instrument
from aegis.model.signals import Action, Decision
from aegis.risk import FixedFraction, FixedQuantity

DECISION = Decision("BTC/USDT", 0, Action.ENTER_LONG, 1.0, "cross", "test")
COARSE = Instrument(
    symbol="BTC/USDT", base="BTC", quote="USDT", tick_size=Decimal("0.01"),
    step_size=Decimal("0.001"),
)  # fmt: skip


def test_fixed_quantity_is_floored_to_the_step() -> None:
    sizer = FixedQuantity(Decimal("0.0019"))
    assert sizer.size(DECISION, Decimal(100), Decimal(1000), COARSE) == Decimal("0.001")
    # the cached rounding is per instrument
    assert sizer.size(DECISION, Decimal(100), Decimal(1000), Instrument.permissive("BTC/USDT")) == (
        Decimal("0.0019")
    )


def test_fixed_fraction_uses_equity_at_the_reference_price() -> None:
    sizer = FixedFraction("0.5")
    quantity = sizer.size(DECISION, Decimal("30000"), Decimal("100000"), COARSE)
    assert quantity == Decimal("1.666")  # 50000 / 30000 = 1.6666.. floored to 0.001


def test_fixed_fraction_of_no_equity_is_zero() -> None:
    assert FixedFraction("0.1").size(DECISION, Decimal(10), Decimal(-5), COARSE) == 0


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "NaN", "Infinity"])
def test_fixed_quantity_rejects_bad_values_naming_them(bad: str) -> None:
    with pytest.raises(ConfigError, match="quantity"):
        FixedQuantity(bad)


@pytest.mark.parametrize("bad", ["0", "1.5", "-0.1"])
def test_fixed_fraction_must_be_in_zero_one(bad: str) -> None:
    with pytest.raises(ConfigError, match="fraction"):
        FixedFraction(bad)


def test_floats_are_refused() -> None:
    with pytest.raises(ConfigError, match="float"):
        FixedQuantity(0.1)  # type: ignore[arg-type]
