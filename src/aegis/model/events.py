"""Immutable events about orders and positions: fills, order updates, funding payments."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from aegis.model._slots import slot_setters
from aegis.model.enums import LiquidityRole, OrderSide, PositionSide


class OrderEventKind(StrEnum):
    """What happened to an order; the transition table in ``order`` maps it to a new status."""

    SUBMIT = "submit"
    ACCEPT = "accept"
    PARTIAL_FILL = "partial_fill"
    FILL = "fill"
    CANCEL_REQUEST = "cancel_request"
    CANCEL = "cancel"
    REJECT = "reject"
    EXPIRE = "expire"

    @property
    def is_fill(self) -> bool:
        """Return True for the two events that carry a ``Fill``."""
        return self in FILL_EVENTS


FILL_EVENTS: Final = frozenset({OrderEventKind.PARTIAL_FILL, OrderEventKind.FILL})


@dataclass(frozen=True, slots=True, init=False)
class Fill:
    """One execution: ``quantity`` at ``price``; ``fee`` is paid in ``fee_currency``."""

    client_order_id: str
    symbol: str
    side: OrderSide
    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_currency: str
    liquidity: LiquidityRole
    ts_ns: int
    trade_id: str
    position_side: PositionSide | None = None

    # Written out (see aegis.model._slots): every order of a backtest builds its fills.
    def __init__(
        self,
        client_order_id: str,
        symbol: str,
        side: OrderSide,
        price: Decimal,
        quantity: Decimal,
        fee: Decimal,
        fee_currency: str,
        liquidity: LiquidityRole,
        ts_ns: int,
        trade_id: str,
        position_side: PositionSide | None = None,
    ) -> None:
        _fill_client_order_id(self, client_order_id)
        _fill_symbol(self, symbol)
        _fill_side(self, side)
        _fill_price(self, price)
        _fill_quantity(self, quantity)
        _fill_fee(self, fee)
        _fill_fee_currency(self, fee_currency)
        _fill_liquidity(self, liquidity)
        _fill_ts_ns(self, ts_ns)
        _fill_trade_id(self, trade_id)
        _fill_position_side(self, position_side)

    @property
    def notional(self) -> Decimal:
        """Return price times quantity (quote units for a contract size of 1)."""
        return self.price * self.quantity


(
    _fill_client_order_id,
    _fill_symbol,
    _fill_side,
    _fill_price,
    _fill_quantity,
    _fill_fee,
    _fill_fee_currency,
    _fill_liquidity,
    _fill_ts_ns,
    _fill_trade_id,
    _fill_position_side,
) = slot_setters(
    Fill,
    "client_order_id",
    "symbol",
    "side",
    "price",
    "quantity",
    "fee",
    "fee_currency",
    "liquidity",
    "ts_ns",
    "trade_id",
    "position_side",
)


@dataclass(frozen=True, slots=True, init=False)
class OrderUpdate:
    """A change reported for one order (by the venue, the simulator or ourselves)."""

    client_order_id: str
    kind: OrderEventKind
    ts_ns: int
    fill: Fill | None = None
    venue_order_id: str | None = None
    reason: str | None = None

    # Written out (see aegis.model._slots): three or more per order of a backtest.
    def __init__(
        self,
        client_order_id: str,
        kind: OrderEventKind,
        ts_ns: int,
        fill: Fill | None = None,
        venue_order_id: str | None = None,
        reason: str | None = None,
    ) -> None:
        _update_client_order_id(self, client_order_id)
        _update_kind(self, kind)
        _update_ts_ns(self, ts_ns)
        _update_fill(self, fill)
        _update_venue_order_id(self, venue_order_id)
        _update_reason(self, reason)


(
    _update_client_order_id,
    _update_kind,
    _update_ts_ns,
    _update_fill,
    _update_venue_order_id,
    _update_reason,
) = slot_setters(
    OrderUpdate, "client_order_id", "kind", "ts_ns", "fill", "venue_order_id", "reason"
)


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """A perpetual funding settlement; ``amount`` is the signed cash flow to the account.

    ``amount`` > 0: the account received funding; < 0: it paid (Binance's income sign).
    """

    symbol: str
    rate: Decimal
    mark_price: Decimal
    amount: Decimal
    ts_ns: int
