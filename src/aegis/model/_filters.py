"""The exchange-filter rules of an ``Instrument``: which filter an order breaks, and the message.

Pure functions of an instrument and an order's fields, kept apart from the instrument's
data, rounding and memoisation (``aegis.model.instrument``), which call them.
"""

from __future__ import annotations

from decimal import Context, Decimal
from typing import TYPE_CHECKING, Final

from aegis.model.enums import OrderSide, OrderType, RejectReason

if TYPE_CHECKING:
    from aegis.model.instrument import Instrument
    from aegis.model.limits import PriceBand

# Wide precision so price / tick never loses digits before it is rounded to an integer.
WIDE: Final = Context(prec=60)

# (reason, field name, offending value, filter name, filter value)
Violation = tuple[RejectReason, str, Decimal | None, str, Decimal | None]

_PRICE_REASONS: Final = (
    RejectReason.PRICE_TICK,
    RejectReason.PRICE_BELOW_MIN,
    RejectReason.PRICE_ABOVE_MAX,
)
_STOP_REASONS: Final = (
    RejectReason.STOP_PRICE_TICK,
    RejectReason.STOP_PRICE_BELOW_MIN,
    RejectReason.STOP_PRICE_ABOVE_MAX,
)


def find_violation(
    instrument: Instrument,
    order_type: OrderType,
    quantity: Decimal,
    price: Decimal | None,
    stop_price: Decimal | None,
    reference_price: Decimal | None,
    reduce_only: bool = False,
    side: OrderSide | None = None,
) -> Violation | None:
    """Return the first filter of ``instrument`` the order breaks, or None when it passes all.

    The price band is checked on a plain limit order when ``side`` and ``reference_price``
    are given (a conditional order's price is checked by the venue when it triggers).
    """
    if not quantity > 0:
        return (RejectReason.NOT_POSITIVE, "quantity", quantity, "", None)
    found = _price_violation(instrument, order_type, price, stop_price)
    if found is not None:
        return found
    is_market = price is None
    found = _quantity_violation(instrument, quantity, is_market)
    if found is not None:
        return found
    band = instrument.price_band
    if (
        band is not None
        and price is not None
        and side is not None
        and reference_price is not None
        and order_type is OrderType.LIMIT
    ):
        found = _band_violation(band, side, price, reference_price)
        if found is not None:
            return found
    if price is not None:
        notional_price: Decimal | None = price
    elif stop_price is not None:
        notional_price = stop_price
    else:
        notional_price = reference_price
    exempt = reduce_only and instrument.kind.is_derivative
    min_notional = instrument.min_notional
    if notional_price is not None and min_notional > 0 and not exempt:
        notional = quantity * notional_price * instrument.contract_size
        if notional < min_notional:
            return (
                RejectReason.NOTIONAL_BELOW_MIN,
                "notional",
                notional,
                "min_notional",
                min_notional,
            )
    return None


def rejection_message(symbol: str, order_type: OrderType, found: Violation) -> str:
    """Return the ``OrderRejected`` message naming symbol, field, value and filter."""
    reason, field, value, filter_name, limit = found
    if reason is RejectReason.MISSING_PRICE or reason is RejectReason.MISSING_STOP_PRICE:
        return f"{field} is required for a {order_type} order on {symbol}"
    if reason is RejectReason.PRICE_NOT_ALLOWED:
        return f"{field} {value} not allowed for a {order_type} order on {symbol}"
    if reason is RejectReason.NOT_POSITIVE:
        return f"{field} {value} must be positive for {symbol}"
    if reason is RejectReason.PRICE_ABOVE_BAND or reason is RejectReason.PRICE_BELOW_BAND:
        relation = "above" if reason is RejectReason.PRICE_ABOVE_BAND else "below"
        return f"{field} {value} {relation} the {filter_name} {limit} for {symbol}"
    if filter_name in ("tick_size", "step_size"):
        return f"{field} {value} is not a multiple of {filter_name} {limit} for {symbol}"
    relation = "below" if "min" in filter_name else "above"
    return f"{field} {value} {relation} {filter_name} {limit} for {symbol}"


def _band_violation(
    band: PriceBand, side: OrderSide, price: Decimal, reference_price: Decimal
) -> Violation | None:
    down, up = band.multipliers(side)
    reference = f"{reference_price} {band.reference}"
    if up is not None and price > reference_price * up:
        limit = reference_price * up
        name = f"price band's maximum for a {side} ({up} x the {reference}):"
        return (RejectReason.PRICE_ABOVE_BAND, "price", price, name, limit)
    if down is not None and price < reference_price * down:
        limit = reference_price * down
        name = f"price band's minimum for a {side} ({down} x the {reference}):"
        return (RejectReason.PRICE_BELOW_BAND, "price", price, name, limit)
    return None


def _price_violation(
    instrument: Instrument,
    order_type: OrderType,
    price: Decimal | None,
    stop_price: Decimal | None,
) -> Violation | None:
    if order_type is OrderType.MARKET or order_type is OrderType.STOP_MARKET:
        if price is not None:
            return (RejectReason.PRICE_NOT_ALLOWED, "price", price, "", None)
    elif price is None and order_type.requires_price:
        return (RejectReason.MISSING_PRICE, "price", None, "", None)
    if stop_price is None:
        if order_type.requires_stop_price:
            return (RejectReason.MISSING_STOP_PRICE, "stop_price", None, "", None)
    else:
        found = _one_price_violation(instrument, "stop_price", stop_price, _STOP_REASONS)
        if found is not None:
            return found
    if price is None:
        return None
    return _one_price_violation(instrument, "price", price, _PRICE_REASONS)


def _one_price_violation(
    instrument: Instrument, field: str, value: Decimal, reasons: tuple[RejectReason, ...]
) -> Violation | None:
    if not value > 0:
        return (RejectReason.NOT_POSITIVE, field, value, "", None)
    tick_size = instrument.tick_size
    if WIDE.remainder(value, tick_size) != 0:
        return (reasons[0], field, value, "tick_size", tick_size)
    min_price = instrument.min_price
    if min_price is not None and value < min_price:
        return (reasons[1], field, value, "min_price", min_price)
    max_price = instrument.max_price
    if max_price is not None and value > max_price:
        return (reasons[2], field, value, "max_price", max_price)
    return None


def _quantity_violation(
    instrument: Instrument, quantity: Decimal, is_market: bool
) -> Violation | None:
    if is_market:
        if quantity < instrument.market_min_qty:
            reason = RejectReason.MARKET_QTY_BELOW_MIN
            return (reason, "quantity", quantity, "market_min_qty", instrument.market_min_qty)
        if quantity > instrument.market_max_qty:
            reason = RejectReason.MARKET_QTY_ABOVE_MAX
            return (reason, "quantity", quantity, "market_max_qty", instrument.market_max_qty)
        return _step_violation(instrument, quantity)
    if quantity < instrument.min_qty:
        return (RejectReason.QTY_BELOW_MIN, "quantity", quantity, "min_qty", instrument.min_qty)
    if quantity > instrument.max_qty:
        return (RejectReason.QTY_ABOVE_MAX, "quantity", quantity, "max_qty", instrument.max_qty)
    return _step_violation(instrument, quantity)


def _step_violation(instrument: Instrument, quantity: Decimal) -> Violation | None:
    step_size = instrument.step_size
    if WIDE.remainder(quantity, step_size) != 0:
        return (RejectReason.QTY_STEP, "quantity", quantity, "step_size", step_size)
    return None
