"""Categories of the domain model; every value is a lowercase ``StrEnum``."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class OrderSide(StrEnum):
    """Direction of an order or a fill."""

    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> OrderSide:
        """Return the other side."""
        return OrderSide.SELL if self is OrderSide.BUY else OrderSide.BUY

    @property
    def sign(self) -> int:
        """Return +1 for a buy and -1 for a sell."""
        return 1 if self is OrderSide.BUY else -1


class OrderType(StrEnum):
    """How an order executes.

    ``STOP_MARKET`` and ``TAKE_PROFIT`` trigger at ``stop_price`` and then execute at market
    (``TAKE_PROFIT`` with a ``price`` executes as a limit once triggered); ``STOP_LIMIT``
    triggers at ``stop_price`` and rests at ``price``.
    """

    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"
    STOP_LIMIT = "stop_limit"
    TAKE_PROFIT = "take_profit"

    @property
    def requires_price(self) -> bool:
        """Return True when a limit price is mandatory."""
        return self in _PRICED_TYPES

    @property
    def requires_stop_price(self) -> bool:
        """Return True when a trigger (stop) price is mandatory."""
        return self in _TRIGGERED_TYPES


_PRICED_TYPES: Final = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT})
_TRIGGERED_TYPES: Final = frozenset(
    {OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT}
)


class TimeInForce(StrEnum):
    """How long a resting order lives; ``POST_ONLY`` is Binance's ``GTX``."""

    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    POST_ONLY = "post_only"


class OrderStatus(StrEnum):
    """Lifecycle state of an order (OR1)."""

    NEW = "new"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_CANCEL = "pending_cancel"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        """Return True when no event except a late fill (after a cancel) can follow."""
        return self in TERMINAL_STATUSES

    @property
    def is_pending(self) -> bool:
        """Return True when the venue may still act on the order (RC3)."""
        return self in PENDING_STATUSES


TERMINAL_STATUSES: Final[frozenset[OrderStatus]] = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)

# RC3: the one set used by startup recovery *and* periodic sync: every state in which the venue
# may know the order and may still fill it. NEW is included because an intent is persisted
# before submission (OR2): after a crash we must ask the venue whether it arrived.
PENDING_STATUSES: Final[frozenset[OrderStatus]] = frozenset(
    {
        OrderStatus.NEW,
        OrderStatus.SUBMITTED,
        OrderStatus.ACCEPTED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_CANCEL,
    }
)


class MarketKind(StrEnum):
    """Kind of instrument; decides how fills move cash."""

    SPOT = "spot"
    LINEAR_PERPETUAL = "linear_perpetual"
    # Dated USD-M futures (e.g. BTCUSDT_241227): same cash accounting as a perpetual, no funding.
    LINEAR_FUTURE = "linear_future"

    @property
    def is_derivative(self) -> bool:
        """Return True for margined contracts (cash moves by PnL, not by notional)."""
        return self is not MarketKind.SPOT


class PositionSide(StrEnum):
    """Side of a position."""

    LONG = "long"
    SHORT = "short"


class PositionMode(StrEnum):
    """One-way (net) or hedge (separate long and short legs) position mode."""

    ONE_WAY = "one_way"
    HEDGE = "hedge"


class LiquidityRole(StrEnum):
    """Whether a fill added (maker) or removed (taker) liquidity."""

    MAKER = "maker"
    TAKER = "taker"


class RejectReason(StrEnum):
    """Why local validation refused an order (PR2)."""

    NOT_POSITIVE = "not_positive"
    MISSING_PRICE = "missing_price"
    MISSING_STOP_PRICE = "missing_stop_price"
    PRICE_NOT_ALLOWED = "price_not_allowed"
    PRICE_TICK = "price_tick"
    PRICE_BELOW_MIN = "price_below_min"
    PRICE_ABOVE_MAX = "price_above_max"
    STOP_PRICE_TICK = "stop_price_tick"
    STOP_PRICE_BELOW_MIN = "stop_price_below_min"
    STOP_PRICE_ABOVE_MAX = "stop_price_above_max"
    QTY_STEP = "qty_step"
    QTY_BELOW_MIN = "qty_below_min"
    QTY_ABOVE_MAX = "qty_above_max"
    MARKET_QTY_BELOW_MIN = "market_qty_below_min"
    MARKET_QTY_ABOVE_MAX = "market_qty_above_max"
    NOTIONAL_BELOW_MIN = "notional_below_min"
    PRICE_ABOVE_BAND = "price_above_band"
    PRICE_BELOW_BAND = "price_below_band"
    TOO_MANY_OPEN_ORDERS = "too_many_open_orders"
    TOO_MANY_OPEN_CONDITIONAL_ORDERS = "too_many_open_conditional_orders"
