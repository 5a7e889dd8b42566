"""Immutable events about orders and positions: fills, order updates, funding payments."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

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


@dataclass(frozen=True, slots=True)
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

    @property
    def notional(self) -> Decimal:
        """Return price times quantity (quote units for a contract size of 1)."""
        return self.price * self.quantity


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """A change reported for one order (by the venue, the simulator or ourselves)."""

    client_order_id: str
    kind: OrderEventKind
    ts_ns: int
    fill: Fill | None = None
    venue_order_id: str | None = None
    reason: str | None = None


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
