"""Matching against trades: next print fills, limits through the price, cap by trade size."""

from __future__ import annotations

from decimal import Decimal

from aegis.model.enums import LiquidityRole, OrderSide, OrderType
from aegis.model.events import OrderEventKind
from aegis.venues.sim import FillModel

from .sim_helpers import SYMBOL, T0_MS, make_exchange, make_order

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def test_market_order_fills_at_the_next_trade_capped_by_its_quantity() -> None:
    exchange = make_exchange()
    exchange.on_trade(SYMBOL, T0_MS, 100.0, 1.0, BUY)
    exchange.submit(make_order(BUY, quantity="1.5"), T0_MS * 1_000_000)
    first = exchange.on_trade(SYMBOL, T0_MS + 10, 100.2, 1.0, BUY)
    second = exchange.on_trade(SYMBOL, T0_MS + 20, 100.3, 2.0, SELL)
    assert [u.kind for u in first + second] == [OrderEventKind.PARTIAL_FILL, OrderEventKind.FILL]
    fills = [u.fill for u in first + second if u.fill is not None]
    assert [(f.price, f.quantity) for f in fills] == [
        (Decimal("100.2"), Decimal(1)),
        (Decimal("100.3"), Decimal("0.5")),
    ]
    assert fills[0].ts_ns == (T0_MS + 10) * 1_000_000


def test_resting_limit_fills_at_its_price_when_a_trade_prints_through_it() -> None:
    exchange = make_exchange()
    exchange.on_trade(SYMBOL, T0_MS, 100.0, 1.0, BUY)
    exchange.submit(make_order(BUY, OrderType.LIMIT, "2", price="99.5"), T0_MS * 1_000_000)
    assert exchange.on_trade(SYMBOL, T0_MS + 1, 99.5, 5.0, SELL) == []  # touch only
    updates = exchange.on_trade(SYMBOL, T0_MS + 2, 99.4, 0.5, SELL)
    fill = updates[0].fill
    assert fill is not None
    assert (fill.price, fill.quantity, fill.liquidity) == (
        Decimal("99.5"),
        Decimal("0.5"),
        LiquidityRole.MAKER,
    )


def test_trade_before_the_latency_elapsed_does_not_fill() -> None:
    exchange = make_exchange(FillModel(latency_ms=50))
    exchange.submit(make_order(BUY), T0_MS * 1_000_000)
    assert exchange.on_trade(SYMBOL, T0_MS + 49, 100.0, 5.0, SELL) == []
    assert exchange.on_trade(SYMBOL, T0_MS + 50, 100.1, 5.0, SELL)[0].kind is OrderEventKind.FILL


def test_stop_fills_at_the_first_trade_at_or_beyond_its_price() -> None:
    exchange = make_exchange()
    exchange.on_trade(SYMBOL, T0_MS, 100.0, 1.0, BUY)
    exchange.submit(make_order(SELL, OrderType.STOP_MARKET, stop_price="99"), T0_MS * 1_000_000)
    assert exchange.on_trade(SYMBOL, T0_MS + 1, 99.1, 1.0, SELL) == []
    fill = exchange.on_trade(SYMBOL, T0_MS + 2, 98.7, 1.0, SELL)[0].fill
    assert fill is not None
    assert fill.price == Decimal("98.7")
    assert fill.liquidity is LiquidityRole.TAKER
