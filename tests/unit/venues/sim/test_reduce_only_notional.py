"""The simulated exchange closes a position smaller than the minimum notional with reduce-only."""

from decimal import Decimal

from aegis.model.enums import OrderSide
from aegis.model.events import OrderEventKind

from .sim_helpers import feed, make_exchange, make_order


def test_reduce_only_exit_below_min_notional_is_accepted_and_fills() -> None:
    exchange = make_exchange(min_notional=Decimal("100"))
    entry = make_order(OrderSide.BUY, quantity="1")
    assert exchange.submit(entry, 0)[0].kind is OrderEventKind.ACCEPT
    feed(exchange, 1, 150.0, 151.0, 149.0, 150.0)
    exit_order = make_order(OrderSide.SELL, quantity="0.5", reduce_only=True)
    plain = make_order(OrderSide.SELL, quantity="0.5")
    reference = Decimal("150")
    assert exchange.submit(exit_order, 1, reference_price=reference)[0].kind is (
        OrderEventKind.ACCEPT
    )
    assert exchange.submit(plain, 1, reference_price=reference)[0].kind is OrderEventKind.REJECT
    fills = [u for u in feed(exchange, 2, 150.0, 151.0, 149.0, 150.0) if u.fill is not None]
    assert [u.client_order_id for u in fills] == [exit_order.client_order_id]
