"""Positions and portfolio: PnL equals the independently computed cash flow (OR3, OR7)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aegis.model import (
    Fill,
    FundingPayment,
    Instrument,
    LiquidityRole,
    MarketKind,
    OrderSide,
    Portfolio,
    PositionMode,
    PositionSide,
)

SPOT = Instrument.permissive("BTC/USDT")
PERP = Instrument.permissive("BTC/USDT:USDT")


def _fill(
    side: OrderSide,
    quantity: str | Decimal,
    price: str | Decimal,
    fee: str | Decimal = "0",
    position_side: PositionSide | None = None,
) -> Fill:
    return Fill(
        client_order_id="b.1",
        symbol="BTC/USDT",
        side=side,
        price=Decimal(price),
        quantity=Decimal(quantity),
        fee=Decimal(fee),
        fee_currency="USDT",
        liquidity=LiquidityRole.TAKER,
        ts_ns=0,
        trade_id="t",
        position_side=position_side,
    )


def test_spot_round_trip_moves_cash_by_notional_and_fees() -> None:
    portfolio = Portfolio({"USDT": Decimal("1000")})
    portfolio.apply_fill(_fill(OrderSide.BUY, "1", "100", "0.1"), SPOT)
    assert portfolio.cash["USDT"] == Decimal("899.9")
    assert portfolio.equity({"BTC/USDT": Decimal("110")}) == Decimal("1009.9")
    portfolio.apply_fill(_fill(OrderSide.SELL, "1", "110", "0.11"), SPOT)
    assert portfolio.cash["USDT"] == Decimal("1009.79")
    assert portfolio.realised_pnl == Decimal("9.79")
    assert portfolio.fees_paid == Decimal("0.21")
    assert portfolio.position("BTC/USDT") is None


def test_perp_cash_moves_only_by_pnl_fees_and_funding() -> None:
    portfolio = Portfolio({"USDT": Decimal("1000")}, leverage=Decimal("10"))
    portfolio.apply_fill(_fill(OrderSide.SELL, "2", "100", "0.2"), PERP)
    assert portfolio.cash["USDT"] == Decimal("999.8")
    assert portfolio.margin_used == Decimal("20")
    portfolio.apply_funding(
        FundingPayment("BTC/USDT", Decimal("0.0001"), Decimal(100), Decimal("0.02"), 1)
    )
    short = portfolio.position("BTC/USDT")
    assert short is not None
    assert short.side is PositionSide.SHORT
    assert short.unrealised_pnl(Decimal("90")) == Decimal("20")
    assert portfolio.equity({"BTC/USDT": Decimal("90")}) == Decimal("1019.82")
    portfolio.apply_fill(_fill(OrderSide.BUY, "3", "90", "0.27"), PERP)  # flips to long 1
    assert portfolio.realised_pnl == Decimal("20") - Decimal("0.47") + Decimal("0.02")
    long = portfolio.position("BTC/USDT")
    assert long is not None
    assert long.side is PositionSide.LONG
    assert long.quantity == 1
    assert portfolio.funding_paid == Decimal("-0.02")


def test_hedge_mode_keeps_long_and_short_residuals_apart() -> None:
    portfolio = Portfolio({"USDT": Decimal("1000")}, PositionMode.HEDGE)
    portfolio.apply_fill(_fill(OrderSide.BUY, "1", "100", position_side=PositionSide.LONG), PERP)
    portfolio.apply_fill(
        _fill(OrderSide.SELL, "0.4", "100", position_side=PositionSide.SHORT), PERP
    )
    long = portfolio.position("BTC/USDT", PositionSide.LONG)
    short = portfolio.position("BTC/USDT", PositionSide.SHORT)
    assert long is not None
    assert long.quantity == 1
    assert short is not None
    assert short.quantity == Decimal("0.4")
    assert len(list(portfolio.positions())) == 2
    with pytest.raises(ValueError, match="needs position_side in hedge mode"):
        portfolio.apply_fill(_fill(OrderSide.BUY, "1", "100"), PERP)
    with pytest.raises(ValueError, match=r"only 0\.4 open"):
        portfolio.apply_fill(
            _fill(OrderSide.BUY, "1", "100", position_side=PositionSide.SHORT), PERP
        )


def test_equity_without_mark_names_the_symbol() -> None:
    portfolio = Portfolio({"USDT": Decimal("1000")})
    portfolio.apply_fill(_fill(OrderSide.BUY, "1", "100"), PERP)
    with pytest.raises(KeyError, match="BTC/USDT"):
        portfolio.equity({})


fills = st.lists(
    st.tuples(
        st.sampled_from(list(OrderSide)),
        st.decimals(min_value="0.001", max_value="5", places=3),
        st.decimals(min_value="50", max_value="150", places=2),
        st.decimals(min_value="0", max_value="0.5", places=4),
        st.sampled_from([PositionSide.LONG, PositionSide.SHORT]),
    ),
    max_size=25,
)
fundings = st.lists(st.decimals(min_value="-3", max_value="3", places=4), max_size=5)


@settings(max_examples=200, deadline=None)
@given(
    trades=fills,
    funding=fundings,
    mark=st.decimals(min_value="50", max_value="150", places=2),
    kind=st.sampled_from([MarketKind.SPOT, MarketKind.LINEAR_PERPETUAL]),
    mode=st.sampled_from(list(PositionMode)),
)
def test_pnl_of_any_fill_sequence_equals_the_cash_flow(
    trades: list[tuple[OrderSide, Decimal, Decimal, Decimal, PositionSide]],
    funding: list[Decimal],
    mark: Decimal,
    kind: MarketKind,
    mode: PositionMode,
) -> None:
    instrument = SPOT if kind is MarketKind.SPOT else PERP
    portfolio = Portfolio({"USDT": Decimal("10000")}, mode)
    cash_flow = Decimal(0)  # independent: what the trades paid and received
    holdings = {PositionSide.LONG: Decimal(0), PositionSide.SHORT: Decimal(0)}
    for side, quantity, price, fee, leg in trades:
        is_buy = side is OrderSide.BUY
        position_side = leg if mode is PositionMode.HEDGE else None
        if mode is PositionMode.HEDGE and is_buy is (leg is PositionSide.SHORT):
            quantity = min(quantity, holdings[leg])  # hedge legs cannot be over-closed
            if not quantity:
                continue
        portfolio.apply_fill(_fill(side, quantity, price, fee, position_side), instrument)
        signed = quantity if is_buy else -quantity
        if mode is PositionMode.HEDGE:
            holdings[leg] += signed if leg is PositionSide.LONG else -signed
        cash_flow += -signed * price - fee
    net = sum((p.signed_quantity for p in portfolio.positions()), Decimal(0))
    for amount in funding:
        portfolio.apply_funding(FundingPayment("BTC/USDT", Decimal(0), mark, amount, 0))
        cash_flow += amount
    independent_total = cash_flow + net * mark
    realised_plus_open = portfolio.realised_pnl + sum(
        (p.unrealised_pnl(mark) for p in portfolio.positions()), Decimal(0)
    )
    # the average entry price is a 28-digit quotient: allow its last-digit rounding only
    tolerance = Decimal("1e-18")
    assert abs(realised_plus_open - independent_total) < tolerance
    equity = portfolio.equity({"BTC/USDT": mark})
    assert abs(equity - (Decimal("10000") + independent_total)) < tolerance
    assert portfolio.fees_paid == sum((t[3] for t in trades), Decimal(0)) or mode is (
        PositionMode.HEDGE
    )


def test_is_flat_follows_the_open_legs() -> None:
    portfolio = Portfolio({"USDT": Decimal("1000")})
    assert portfolio.is_flat()
    portfolio.apply_fill(_fill(OrderSide.BUY, "1", "100"), SPOT)
    assert not portfolio.is_flat()
    portfolio.apply_fill(_fill(OrderSide.SELL, "1", "101"), SPOT)
    assert portfolio.is_flat()  # the closed leg is kept, but holds nothing
    assert portfolio.legs("BTC/USDT")
