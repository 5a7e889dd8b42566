"""The exchange's price band and open-order caps, as Binance applies them to a new order.

USD-M ``PERCENT_PRICE`` bounds a buy limit from above (price <= mark x ``multiplierUp``,
-4016) and a sell limit from below (price >= mark x ``multiplierDown``, -4024). Spot
``PERCENT_PRICE_BY_SIDE`` bounds both ends of each side (-1013 "Filter failure"); the emulator's
reference is its mark (the last replayed price), where Binance spot uses a 5-minute average.
``MAX_NUM_ORDERS`` / ``MAX_NUM_ALGO_ORDERS`` cap the open orders per symbol: on USD-M the
conditional orders live in the algo service and count against their own cap only (-2025 /
-4045); on spot a stop order counts against both (-1013).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

from aegis.venues.emulator import errors
from aegis.venues.emulator.errors import BinanceError

#: spot order types Binance counts as algo orders
_SPOT_ALGO_TYPES: Final = frozenset(
    {"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"}
)
Bound = Decimal | None


def _multiplier(raw: object, places: object) -> Decimal:
    value = Decimal(str(raw))
    if places is not None and "." not in str(raw) and value >= 10:
        # integers scaled by 10^multiplierDecimal (seen on BTCSTUSDT: "11500" = 1.15)
        value = value.scaleb(-int(str(places)))
    return value


@dataclass(frozen=True, slots=True)
class OrderLimits:
    """One symbol's price band (multipliers of the mark; None = open end) and open caps."""

    kind: Literal["usdm", "spot"]
    buy_down: Bound = None
    buy_up: Bound = None
    sell_down: Bound = None
    sell_up: Bound = None
    max_orders: int | None = None
    max_algo_orders: int | None = None

    @classmethod
    def from_filters(cls, kind: Literal["usdm", "spot"], filters: Iterable[Any]) -> OrderLimits:
        """Read the band and the caps from an exchangeInfo entry's ``filters`` list."""
        by_type = {f.get("filterType"): f for f in filters if isinstance(f, dict)}
        caps = {
            name: by_type[name].get("limit", by_type[name].get(key))
            for name, key in (
                ("MAX_NUM_ORDERS", "maxNumOrders"),
                ("MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders"),
            )
            if name in by_type
        }
        raw_orders = caps.get("MAX_NUM_ORDERS")
        raw_algo = caps.get("MAX_NUM_ALGO_ORDERS")
        max_orders = None if raw_orders is None else int(raw_orders)
        max_algo = None if raw_algo is None else int(raw_algo)
        by_side = by_type.get("PERCENT_PRICE_BY_SIDE")
        if by_side is not None:
            return cls(
                kind,
                buy_down=Decimal(str(by_side["bidMultiplierDown"])),
                buy_up=Decimal(str(by_side["bidMultiplierUp"])),
                sell_down=Decimal(str(by_side["askMultiplierDown"])),
                sell_up=Decimal(str(by_side["askMultiplierUp"])),
                max_orders=max_orders,
                max_algo_orders=max_algo,
            )
        percent = by_type.get("PERCENT_PRICE")
        if percent is None:
            return cls(kind, max_orders=max_orders, max_algo_orders=max_algo)
        places = percent.get("multiplierDecimal")
        up = _multiplier(percent["multiplierUp"], places)
        down = _multiplier(percent["multiplierDown"], places)
        if kind == "usdm":
            return cls(
                kind, buy_up=up, sell_down=down, max_orders=max_orders, max_algo_orders=max_algo
            )
        return cls(
            kind,
            buy_down=down,
            buy_up=up,
            sell_down=down,
            sell_up=up,
            max_orders=max_orders,
            max_algo_orders=max_algo,
        )

    def check_price(self, side: str, price: Decimal, mark: Decimal) -> BinanceError | None:
        """Return the error for a limit ``price`` outside the band around ``mark``, or None."""
        down, up = (self.buy_down, self.buy_up) if side == "BUY" else (self.sell_down, self.sell_up)
        high = None if up is None else mark * up
        low = None if down is None else mark * down
        if high is not None and price > high:
            if self.kind == "spot":
                return errors.spot_filter_failure("PERCENT_PRICE_BY_SIDE")
            return errors.price_above_multiplier_cap(_text(high))
        if low is not None and price < low:
            if self.kind == "spot":
                return errors.spot_filter_failure("PERCENT_PRICE_BY_SIDE")
            return errors.price_below_multiplier_floor(_text(low))
        return None

    def check_open(
        self, order_type: str, *, is_algo: bool, open_types: Iterable[str], open_algos: int
    ) -> BinanceError | None:
        """Return the error when one more order would pass a cap, or None.

        ``open_types`` are the types of the symbol's open regular orders, ``open_algos`` the
        number of its open algo (USD-M conditional) orders.
        """
        if self.kind == "usdm":
            if is_algo:
                full = self.max_algo_orders is not None and open_algos >= self.max_algo_orders
                return errors.max_stop_orders_reached() if full else None
            full = self.max_orders is not None and sum(1 for _ in open_types) >= self.max_orders
            return errors.max_open_orders_reached() if full else None
        types = list(open_types)
        algo_cap = self.max_algo_orders
        if order_type in _SPOT_ALGO_TYPES and algo_cap is not None:
            open_algo = sum(1 for t in types if t in _SPOT_ALGO_TYPES)
            if open_algo >= algo_cap:
                return errors.spot_filter_failure("MAX_NUM_ALGO_ORDERS")
        if self.max_orders is not None and len(types) >= self.max_orders:
            return errors.spot_filter_failure("MAX_NUM_ORDERS")
        return None


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f")
