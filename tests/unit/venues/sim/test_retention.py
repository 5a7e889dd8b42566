"""``retain_history=False``: finished orders and fills leave the exchange, open ones stay."""

from __future__ import annotations

from aegis.model.enums import OrderSide, OrderStatus, OrderType
from aegis.model.events import OrderEventKind
from aegis.venues.sim import FillModel, SimulatedExchange

from .sim_helpers import candle_ns, feed, make_instrument, make_order


def _exchange(*, retain_history: bool) -> SimulatedExchange:
    instrument = make_instrument()
    return SimulatedExchange(
        {instrument.symbol: instrument}, FillModel(), retain_history=retain_history
    )


def test_without_history_a_filled_market_order_and_its_fill_are_forgotten() -> None:
    exchange = _exchange(retain_history=False)
    order = make_order(OrderSide.BUY, quantity="0.5")
    (accept,) = exchange.submit(order, candle_ns(0))
    assert accept.kind is OrderEventKind.ACCEPT
    assert [o.client_order_id for o in exchange.orders()] == [order.client_order_id]
    (fill,) = feed(exchange, 1, 100.0, 101.0, 99.0, 100.5)
    assert fill.kind is OrderEventKind.FILL
    assert fill.fill is not None
    assert str(fill.fill.price) == "100.0"
    assert exchange.orders() == []
    assert exchange.fills() == []
    assert not exchange.has_open_orders()
    assert str(exchange.position(order.symbol)) == "0.5"


def test_without_history_a_cancelled_limit_order_is_forgotten_and_a_resting_one_kept() -> None:
    exchange = _exchange(retain_history=False)
    resting = make_order(OrderSide.BUY, OrderType.LIMIT, "1", price="90")
    cancelled = make_order(OrderSide.BUY, OrderType.LIMIT, "1", price="80")
    exchange.submit(resting, candle_ns(0))
    exchange.submit(cancelled, candle_ns(0))
    exchange.cancel(cancelled.client_order_id, candle_ns(0))
    (kept,) = exchange.orders()
    assert kept.client_order_id == resting.client_order_id
    assert kept.status is OrderStatus.ACCEPTED


def test_with_history_by_default_finished_orders_and_fills_stay_queryable() -> None:
    exchange = _exchange(retain_history=True)
    order = make_order(OrderSide.BUY, quantity="0.5")
    exchange.submit(order, candle_ns(0))
    feed(exchange, 1, 100.0, 101.0, 99.0, 100.5)
    assert exchange.get_order(order.client_order_id).status is OrderStatus.FILLED
    assert len(exchange.fills()) == 1
