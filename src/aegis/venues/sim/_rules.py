"""Price rules of the matching engine: when an order triggers or fills on a bar, and at what price.

A *bar* is a candle ``(open, high, low)`` or a single trade (``open = high = low = price``).
The rules are documented in docs/simulated-exchange.md; this module is pure (no quantities).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from aegis.model.enums import TimeInForce
from aegis.venues.sim._record import SimOrder

FILL: Final = 1
EXPIRE: Final = 2

# (kind, price, is_taker, reason): price is the fill price for FILL, None for EXPIRE.
Outcome = tuple[int, Decimal | None, bool, str | None]


def _decimal(value: float) -> Decimal:
    # Contract: float -> Decimal through the shortest round-trip repr, never Decimal(float).
    # float() first: numpy scalars repr as 'np.float64(...)'.
    return Decimal(repr(float(value)))


def _is_through(record: SimOrder, price: float, touch: bool) -> bool:
    """Return True when ``price`` trades through the limit (or touches it, with ``touch``)."""
    limit = record.limit_price_float
    if record.is_buy:
        return price < limit or (touch and price == limit)
    return price > limit or (touch and price == limit)


def match_bar(
    record: SimOrder, open_: float, high: float, low: float, *, is_trade: bool, touch: bool
) -> Outcome | None:
    """Decide what ``record`` does on one bar; may set its trigger and arrival flags."""
    if record.is_market and record.is_triggered:
        return (FILL, _decimal(open_), True, None)
    if not record.is_triggered:
        return _trigger(record, open_, high, low, touch=touch)
    if not record.has_arrived:
        outcome = _arrive(record, open_, open_, touch=touch)
        if outcome is not None or is_trade:
            return outcome
        # Arrived at the open without filling: it now rests and the rest of the bar may reach it.
        return _rest_fill(record, low if record.is_buy else high, touch=touch)
    if not is_trade and _is_through(record, open_, touch):
        # A resting limit the open gapped through fills at the (better) open.
        return (FILL, _decimal(open_), False, None)
    return _rest_fill(record, low if record.is_buy else high, touch=touch)


def _rest_fill(record: SimOrder, extreme: float, *, touch: bool) -> Outcome | None:
    if _is_through(record, extreme, touch):
        return (FILL, record.limit_price, False, None)
    return None


def _trigger(
    record: SimOrder, open_: float, high: float, low: float, *, touch: bool
) -> Outcome | None:
    stop = record.stop_price_float
    # Stops and take-profits trigger when the range reaches the price (touching counts).
    if record.trigger_up:
        if high < stop:
            return None
        gapped = open_ >= stop
    else:
        if low > stop:
            return None
        gapped = open_ <= stop
    record.is_triggered = True
    stop_decimal = record.stop_price
    trigger_price = _decimal(open_) if gapped or stop_decimal is None else stop_decimal
    if record.is_market:
        return (FILL, trigger_price, True, None)
    # A stop-limit arrives as a limit at the trigger price; if it does not fill there it rests
    # from the next bar (where in the bar the price went after the trigger is unknown).
    return _arrive(record, float(trigger_price), trigger_price, touch=touch)


def _arrive(
    record: SimOrder, price: float, price_decimal: Decimal | float, *, touch: bool
) -> Outcome | None:
    """A limit meets the market for the first time at ``price``: taker fill, expiry or rest."""
    record.has_arrived = True
    tif = record.time_in_force
    if _is_through(record, price, touch):
        if tif is TimeInForce.POST_ONLY:
            return (EXPIRE, None, False, f"post-only order would take liquidity at {price!r}")
        fill_price = price_decimal if isinstance(price_decimal, Decimal) else _decimal(price)
        return (FILL, fill_price, True, None)
    if tif is TimeInForce.IOC or tif is TimeInForce.FOK:
        return (
            EXPIRE,
            None,
            False,
            f"{tif.value} limit {record.limit_price} not marketable at {price!r}",
        )
    return None
