"""Round trips from fills: partial exits, flips and open trips marked at the last close."""

from __future__ import annotations

from decimal import Decimal

from aegis.backtest import build_round_trips
from aegis.model.enums import LiquidityRole, OrderSide, PositionSide
from aegis.model.events import Fill

SYMBOL = "BTC/USDT"
LAST = {SYMBOL: Decimal(120)}
SIZE = {SYMBOL: Decimal(1)}


def _fill(side: OrderSide, quantity: str, price: str, fee: str, ts_ms: int) -> Fill:
    return Fill(
        "c", SYMBOL, side, Decimal(price), Decimal(quantity), Decimal(fee), "USDT",
        LiquidityRole.TAKER, ts_ms * 1_000_000, "t",
    )  # fmt: skip


def test_partial_exits_make_one_round_trip_with_average_prices() -> None:
    fills = [
        _fill(OrderSide.BUY, "2", "100", "0.2", 1),
        _fill(OrderSide.SELL, "1", "110", "0.11", 2),
        _fill(OrderSide.SELL, "1", "130", "0.13", 3),
    ]
    (trip,) = build_round_trips(fills, LAST, SIZE)
    assert trip.side is PositionSide.LONG
    assert not trip.is_open
    assert (trip.entry_ts_ms, trip.exit_ts_ms) == (1, 3)
    assert trip.exit_price == Decimal(120)
    assert trip.quantity == 2
    assert trip.fees == Decimal("0.44")
    assert trip.pnl == Decimal(40) - Decimal("0.44")


def test_a_flip_closes_one_trip_and_opens_the_next_with_a_pro_rata_fee() -> None:
    fills = [
        _fill(OrderSide.BUY, "1", "100", "0.1", 1),
        _fill(OrderSide.SELL, "3", "90", "0.3", 2),
    ]
    closed, short = build_round_trips(fills, LAST, SIZE)
    assert closed.pnl == Decimal(-10) - Decimal("0.1") - Decimal("0.1")
    assert short.side is PositionSide.SHORT
    assert short.is_open
    assert short.quantity == 2
    # short 2 from 90, marked at 120: -60, minus its share of the fee
    assert short.pnl == Decimal(-60) - Decimal("0.2")
