"""Map an Aegis ``Order`` to ccxt ``create_order`` arguments, normalised to the filters (PR2)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import structlog

from aegis.model.enums import OrderSide, OrderType, TimeInForce
from aegis.model.instrument import Instrument
from aegis.model.limits import CONDITIONAL_TYPES
from aegis.model.order import Order
from aegis.venues.ccxt.profiles import ExchangeProfile

log = structlog.get_logger(__name__)

# The notional of a market order is checked against the last price less this margin, so a
# small move between our check and the venue's does not turn into a venue rejection (PR2).
REFERENCE_PRICE_MARGIN: Final = Decimal("0.995")

_ONE: Final = Decimal(1)
_TIME_IN_FORCE: Final = {TimeInForce.GTC: "GTC", TimeInForce.IOC: "IOC", TimeInForce.FOK: "FOK"}


def wire_decimal(value: Decimal) -> str:
    """Return the plain (never scientific) decimal text of a grid value: 1E-8 -> '0.00000001'."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def is_conditional(order_type: OrderType) -> bool:
    """Return True for trigger orders (Binance USD-M sends them to the algo-order API)."""
    return order_type in CONDITIONAL_TYPES


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """The exact arguments of one ``create_order`` call; amounts are decimal strings."""

    symbol: str
    type: str
    side: str
    amount: str
    price: str | None
    params: dict[str, Any]


def build_request(
    order: Order,
    instrument: Instrument,
    profile: ExchangeProfile,
    *,
    reference_price: Decimal | None = None,
) -> OrderRequest:
    """Normalise ``order`` with ``instrument`` and return the ccxt call for it.

    Raises ``OrderRejected`` (nothing is sent) when the order cannot meet the filters.
    """
    stop_price = order.stop_price
    if stop_price is not None:
        # a trigger is a level, not a fill price: round it to the nearest tick
        stop_price = instrument.round_price(stop_price, order.side, mode="nearest")
    reference = None
    if reference_price is not None:
        shift = REFERENCE_PRICE_MARGIN
        if order.type is OrderType.LIMIT and order.side is OrderSide.SELL:
            # The venue bands a limit price around its own reference (Binance USD-M: the mark
            # price), which may stand a little off our last price: ours moves by the margin
            # towards the side's bound (a buy's down, as for the notional; a sell's up), so
            # that a price we accept the venue accepts too.
            shift = _ONE + (_ONE - REFERENCE_PRICE_MARGIN)
        reference = reference_price * shift
    quantity, price = instrument.normalise(
        order.type,
        order.side,
        order.quantity,
        order.price,
        stop_price=stop_price,
        reference_price=reference,
        reduce_only=order.reduce_only,
    )
    if quantity != order.quantity or price != order.price or stop_price != order.stop_price:
        log.warning(
            "order_normalised",
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            quantity=str(order.quantity),
            sent_quantity=str(quantity),
            price=None if order.price is None else str(order.price),
            sent_price=None if price is None else str(price),
        )
    return OrderRequest(
        symbol=order.symbol,
        type="market" if price is None else "limit",
        side=order.side.value,
        amount=wire_decimal(quantity),
        price=None if price is None else wire_decimal(price),
        params=_params(order, instrument, profile, stop_price),
    )


def _params(
    order: Order, instrument: Instrument, profile: ExchangeProfile, stop_price: Decimal | None
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    id_param = profile.client_id_param
    if is_conditional(order.type) and profile.conditional_client_id_param is not None:
        id_param = profile.conditional_client_id_param
    params[id_param] = order.client_order_id  # OR2: the deterministic id goes on the wire
    if stop_price is not None:
        key = "takeProfitPrice" if order.type is OrderType.TAKE_PROFIT else "triggerPrice"
        params[key] = wire_decimal(stop_price)
    if order.price is not None and order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        if order.time_in_force is TimeInForce.POST_ONLY:
            params["postOnly"] = True
        else:
            params["timeInForce"] = _TIME_IN_FORCE[order.time_in_force]
    position_side = order.position_side
    hedged = position_side is not None and profile.uses_binance_filters
    if position_side is not None and hedged:
        params["positionSide"] = position_side.value.upper()
    # Binance hedge mode refuses reduceOnly (-1106): the side against the leg closes it
    if order.reduce_only and instrument.kind.is_derivative and not hedged:
        params["reduceOnly"] = True
    return params
