"""Why the simulated exchange refuses an order at submission (PR2: same filters as live)."""

from __future__ import annotations

from decimal import Decimal

from aegis.model.enums import OrderSide, OrderType, TimeInForce
from aegis.model.errors import OrderRejected
from aegis.model.instrument import Instrument
from aegis.model.order import Order


def rejection_reason(
    order: Order,
    instrument: Instrument | None,
    reference: Decimal | None,
    position: Decimal,
    *,
    touch: bool,
) -> str | None:
    """Return the reason to reject ``order``, or None to accept it.

    ``reference`` is the last price (market notional, post-only cross, immediate trigger);
    ``position`` the signed position on the order's (symbol, position side) for reduce-only.
    """
    if instrument is None:
        return f"symbol {order.symbol!r} is not listed on the simulated exchange"
    try:
        instrument.check(
            order.type,
            order.side,
            order.quantity,
            order.price,
            stop_price=order.stop_price,
            reference_price=reference,
            reduce_only=order.reduce_only,
        )
    except OrderRejected as error:
        return str(error)
    if order.time_in_force is TimeInForce.POST_ONLY:
        found = _post_only_reason(order, reference, touch=touch)
        if found is not None:
            return found
    stop = order.stop_price
    if stop is not None and reference is not None:
        is_up = (order.side is OrderSide.BUY) == (order.type is not OrderType.TAKE_PROFIT)
        if reference >= stop if is_up else reference <= stop:
            # Binance -2021 "Order would immediately trigger."
            return (
                f"{order.type} stop_price {stop} would trigger immediately at "
                f"the last price {reference} on {order.symbol}"
            )
    if order.reduce_only and position * order.side.sign >= 0:
        return (
            f"reduce-only {order.side} {order.quantity} would not reduce the "
            f"position {position} on {order.symbol}"
        )
    return None


def _post_only_reason(order: Order, reference: Decimal | None, *, touch: bool) -> str | None:
    price = order.price
    if price is None:
        return f"post-only needs a limit price ({order.type} order {order.client_order_id})"
    if reference is None or order.stop_price is not None:
        return None
    crosses = reference < price if order.side is OrderSide.BUY else reference > price
    if crosses or (touch and reference == price):
        return (
            f"post-only {order.side} limit {price} would cross the last "
            f"price {reference} on {order.symbol}"
        )
    return None
