"""Reduce-only orders on derivatives are exempt from the minimum notional (as on Binance USD-M)."""

from decimal import Decimal

import pytest

from aegis.model.enums import MarketKind, OrderSide, OrderType, RejectReason
from aegis.model.errors import OrderRejected
from aegis.model.instrument import Instrument


def _instrument(kind: MarketKind) -> Instrument:
    return Instrument(
        symbol="XRP/USDT:USDT" if kind.is_derivative else "XRP/USDT",
        base="XRP",
        quote="USDT",
        kind=kind,
        tick_size=Decimal("0.0001"),
        step_size=Decimal("0.1"),
        min_qty=Decimal("0.1"),
        min_notional=Decimal("5"),
    )


def test_small_reduce_only_exit_on_a_perpetual_passes_every_filter() -> None:
    perpetual = _instrument(MarketKind.LINEAR_PERPETUAL)
    quantity, price = perpetual.normalise(
        OrderType.MARKET,
        OrderSide.SELL,
        Decimal("2"),
        reference_price=Decimal("0.6"),
        reduce_only=True,
    )
    assert (quantity, price) == (Decimal("2.0"), None)


def test_same_order_without_reduce_only_is_below_min_notional() -> None:
    perpetual = _instrument(MarketKind.LINEAR_PERPETUAL)
    with pytest.raises(OrderRejected, match=r"notional 1\.2\d* below min_notional 5") as raised:
        perpetual.normalise(
            OrderType.MARKET, OrderSide.SELL, Decimal("2"), reference_price=Decimal("0.6")
        )
    assert raised.value.reason is RejectReason.NOTIONAL_BELOW_MIN


def test_reduce_only_gives_no_exemption_on_spot() -> None:
    spot = _instrument(MarketKind.SPOT)
    assert (
        spot.validate(
            OrderType.LIMIT, OrderSide.SELL, Decimal("2"), Decimal("0.6"), reduce_only=True
        )
        is RejectReason.NOTIONAL_BELOW_MIN
    )


def test_cached_answers_keep_reduce_only_apart() -> None:
    perpetual = _instrument(MarketKind.LINEAR_PERPETUAL)
    perpetual.check(OrderType.LIMIT, OrderSide.SELL, Decimal("2"), Decimal("0.6"), reduce_only=True)
    with pytest.raises(OrderRejected):
        perpetual.check(OrderType.LIMIT, OrderSide.SELL, Decimal("2"), Decimal("0.6"))
