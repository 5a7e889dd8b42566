"""In one-way mode an exit's fee is charged to the position it closes."""

from decimal import Decimal

from aegis.model.enums import LiquidityRole, MarketKind, OrderSide, PositionSide
from aegis.model.events import Fill
from aegis.model.instrument import Instrument
from aegis.model.portfolio import Portfolio

PERP = Instrument(
    symbol="XRP/USDT:USDT",
    base="XRP",
    quote="USDT",
    kind=MarketKind.LINEAR_PERPETUAL,
    tick_size=Decimal("0.0001"),
    step_size=Decimal("0.1"),
    min_qty=Decimal("0.1"),
)


def _fill(side: OrderSide, quantity: str, price: str, fee: str, n: int) -> Fill:
    return Fill(
        client_order_id=f"bot.{n}",
        symbol=PERP.symbol,
        side=side,
        price=Decimal(price),
        quantity=Decimal(quantity),
        fee=Decimal(fee),
        fee_currency="USDT",
        liquidity=LiquidityRole.TAKER,
        ts_ns=n,
        trade_id=str(n),
    )


def test_exit_fee_goes_to_the_closed_long_leg() -> None:
    portfolio = Portfolio({"USDT": Decimal(1000)})
    portfolio.apply_fill(_fill(OrderSide.BUY, "10", "1.0", "0.004", 1), PERP)
    portfolio.apply_fill(_fill(OrderSide.SELL, "10", "1.1", "0.0044", 2), PERP)
    legs = {leg.side: leg for leg in portfolio.legs(PERP.symbol)}
    assert legs[PositionSide.LONG].quantity == 0
    assert legs[PositionSide.LONG].fees_paid == Decimal("0.0084")
    assert portfolio.fees_paid == Decimal("0.0084")


def test_a_flip_splits_the_fee_between_the_closed_and_the_opened_leg() -> None:
    portfolio = Portfolio({"USDT": Decimal(1000)})
    portfolio.apply_fill(_fill(OrderSide.BUY, "10", "1.0", "0.004", 1), PERP)
    portfolio.apply_fill(_fill(OrderSide.SELL, "15", "1.0", "0.006", 2), PERP)
    legs = {leg.side: leg for leg in portfolio.legs(PERP.symbol)}
    assert legs[PositionSide.LONG].fees_paid == Decimal("0.008")
    assert legs[PositionSide.SHORT].fees_paid == Decimal("0.002")
    assert legs[PositionSide.SHORT].quantity == Decimal("5")
