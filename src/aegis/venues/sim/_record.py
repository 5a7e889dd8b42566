"""The simulated exchange's own mutable view of one order (never shared with callers)."""

from __future__ import annotations

from decimal import Decimal

from aegis.model.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from aegis.model.instrument import Instrument
from aegis.model.order import Order

_ZERO = Decimal(0)
_NO_PRICE = float("nan")
_BUY = OrderSide.BUY
_MARKET = OrderType.MARKET
_ACCEPTED = OrderStatus.ACCEPTED


class SimOrder:
    """Matching state of one order: remaining quantity, trigger and arrival flags.

    Kept as a plain mutable slotted object because it changes on every fill in the hot loop;
    callers only ever see immutable ``Order`` snapshots built by ``snapshot``.
    """

    __slots__ = (
        "arrival_event",
        "client_order_id",
        "eligible_ns",
        "filled",
        "has_arrived",
        "instrument",
        "is_buy",
        "is_market",
        "is_plain_market",
        "is_triggered",
        "limit_price",
        "limit_price_float",
        "notional_filled",
        "order",
        "reason",
        "remaining",
        "status",
        "stop_price",
        "stop_price_float",
        "trigger_up",
        "updated_ns",
        "venue_order_id",
    )

    def __init__(
        self,
        order: Order,
        instrument: Instrument,
        venue_order_id: str,
        ts_ns: int,
        eligible_ns: int,
        arrival_event: int,
    ) -> None:
        # positional parameters: a keyword call costs the exchange ~0.2 us per order
        self.order = order
        self.instrument = instrument
        self.client_order_id = order.client_order_id
        self.venue_order_id = venue_order_id
        is_buy = self.is_buy = order.side is _BUY
        order_type = order.type
        stop_price = order.stop_price
        self.stop_price: Decimal | None = stop_price
        self.limit_price: Decimal | None = None
        if order_type is _MARKET and stop_price is None:
            # the usual order (every order of a plain backtest): what the general branch below
            # gives for a market order without a trigger, with no enum property read
            self.limit_price_float = _NO_PRICE
            self.stop_price_float = _NO_PRICE
            self.is_triggered = True
            self.trigger_up = is_buy
            self.is_market = True
            self.is_plain_market = not order.reduce_only
        else:
            # Market and stop-market orders never carry a limit; a take-profit may (a limit).
            has_limit = order_type is not _MARKET and order_type is not OrderType.STOP_MARKET
            limit_price = order.price if has_limit else None
            self.limit_price = limit_price
            self.limit_price_float = _NO_PRICE if limit_price is None else float(limit_price)
            self.stop_price_float = _NO_PRICE if stop_price is None else float(stop_price)
            self.is_triggered = stop_price is None or not order_type.requires_stop_price
            # A buy stop waits for the price to rise to it, a buy take-profit for it to fall.
            self.trigger_up = is_buy == (order_type is not OrderType.TAKE_PROFIT)
            self.is_market = limit_price is None
            # No trigger, no limit, no reduce-only check: the matcher's fast path fills it whole.
            self.is_plain_market = self.is_market and self.is_triggered and not order.reduce_only
        self.remaining = order.quantity
        self.filled = _ZERO
        self.notional_filled = _ZERO
        self.status = _ACCEPTED
        self.eligible_ns = eligible_ns
        self.arrival_event = arrival_event
        self.has_arrived = False
        self.updated_ns = ts_ns
        self.reason: str | None = None

    @property
    def time_in_force(self) -> TimeInForce:
        """Return the order's time in force."""
        return self.order.time_in_force

    def record_fill(self, price: Decimal, quantity: Decimal, ts_ns: int) -> None:
        """Reduce the remaining quantity and update the average fill price."""
        self.remaining -= quantity
        self.filled += quantity
        self.notional_filled += price * quantity
        self.updated_ns = ts_ns
        self.status = OrderStatus.FILLED if self.remaining <= 0 else OrderStatus.PARTIALLY_FILLED

    def snapshot(self) -> Order:
        """Return the order as the venue sees it now (an immutable copy)."""
        average = None if self.filled == 0 else self.notional_filled / self.filled
        return self.order.replace(
            status=self.status,
            filled_quantity=self.filled,
            average_fill_price=average,
            venue_order_id=self.venue_order_id,
            updated_ns=self.updated_ns,
            reason=self.reason,
        )
