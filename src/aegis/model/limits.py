"""Venue limits beyond the price and quantity grid: the price band and the open-order caps (PR2).

Both are data of an ``Instrument``. The band is checked with the other filters
(``aegis.model._filters``) against a reference price the caller supplies; the open-order caps
need the account's open orders, which only the order manager knows, so it asks ``refusal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from aegis.model.enums import OrderSide, OrderType, RejectReason
from aegis.model.errors import ConfigError

#: order types a venue keeps apart as conditional (Binance "algo") orders until they trigger
CONDITIONAL_TYPES: Final = frozenset(
    {OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT}
)


def _check_multiplier(name: str, value: Decimal | None) -> None:
    if value is None:
        return
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ConfigError(f"price band {name} {value!r} must be a positive Decimal")


@dataclass(frozen=True, slots=True)
class PriceBand:
    """How far a limit price may be from the venue's reference price.

    Each bound is a multiplier of the reference price, or None where the venue sets none.
    Binance USD-M ``PERCENT_PRICE`` bounds a buy from above only (price <= mark price x
    ``multiplierUp``) and a sell from below only (price >= mark price x ``multiplierDown``);
    Binance spot ``PERCENT_PRICE_BY_SIDE`` bounds each side at both ends around the average
    price of the last ``avgPriceMins`` minutes. ``reference`` names that price in messages.
    """

    buy_up: Decimal | None = None
    buy_down: Decimal | None = None
    sell_up: Decimal | None = None
    sell_down: Decimal | None = None
    reference: str = "reference price"

    def __post_init__(self) -> None:
        for name in ("buy_up", "buy_down", "sell_up", "sell_down"):
            _check_multiplier(name, getattr(self, name))
        for side, down, up in (
            ("buy", self.buy_down, self.buy_up),
            ("sell", self.sell_down, self.sell_up),
        ):
            if down is not None and up is not None and down > up:
                raise ConfigError(f"price band {side}_down {down} above {side}_up {up}")

    def multipliers(self, side: OrderSide) -> tuple[Decimal | None, Decimal | None]:
        """Return ``(down, up)`` for ``side``; None where that end is open."""
        if side is OrderSide.BUY:
            return self.buy_down, self.buy_up
        return self.sell_down, self.sell_up

    def bounds(
        self, side: OrderSide, reference_price: Decimal
    ) -> tuple[Decimal | None, Decimal | None]:
        """Return the lowest and highest price allowed for ``side`` around ``reference_price``."""
        down, up = self.multipliers(side)
        low = None if down is None else reference_price * down
        high = None if up is None else reference_price * up
        return low, high


@dataclass(frozen=True, slots=True)
class OpenOrderLimits:
    """How many orders the venue lets an account keep open on one symbol.

    ``max_orders`` caps the open orders (Binance ``MAX_NUM_ORDERS``), ``max_conditional`` the
    open conditional ones (``MAX_NUM_ALGO_ORDERS``). On Binance spot a conditional order also
    counts against ``max_orders`` (``conditional_in_max_orders``); on USD-M futures conditional
    orders live in the separate algo service and count against their own cap only.
    """

    max_orders: int | None = None
    max_conditional: int | None = None
    conditional_in_max_orders: bool = False

    def __post_init__(self) -> None:
        for name in ("max_orders", "max_conditional"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ConfigError(f"open-order limit {name} {value!r} must be an integer >= 1")

    @property
    def lowest(self) -> int | None:
        """Return the smaller cap: below it no count needs to be looked at."""
        caps = [cap for cap in (self.max_orders, self.max_conditional) if cap is not None]
        return min(caps) if caps else None

    def refusal(
        self, symbol: str, order_type: OrderType, open_regular: int, open_conditional: int
    ) -> tuple[RejectReason, str] | None:
        """Return why one more ``order_type`` order on ``symbol`` would break a cap, or None.

        ``open_regular`` and ``open_conditional`` count the account's open orders on the symbol.
        """
        conditional = order_type in CONDITIONAL_TYPES
        cap = self.max_conditional
        if conditional and cap is not None and open_conditional >= cap:
            return (
                RejectReason.TOO_MANY_OPEN_CONDITIONAL_ORDERS,
                f"{open_conditional} conditional orders already open on {symbol}: "
                f"the venue allows {self.max_conditional} (MAX_NUM_ALGO_ORDERS)",
            )
        if self.max_orders is None or (conditional and not self.conditional_in_max_orders):
            return None
        counted = open_regular + (open_conditional if self.conditional_in_max_orders else 0)
        if counted >= self.max_orders:
            return (
                RejectReason.TOO_MANY_OPEN_ORDERS,
                f"{counted} orders already open on {symbol}: "
                f"the venue allows {self.max_orders} (MAX_NUM_ORDERS)",
            )
        return None
