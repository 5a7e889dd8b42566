"""Tradable instrument with the venue's filters: rounding to the grid and validation (PR2).

The filter rules themselves (which filter an order breaks, the rejection message) live in
``aegis.model._filters``; this module holds the data, the rounding and the memoisation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Decimal,
)
from typing import Any, Final

from aegis.model._filters import WIDE as _WIDE

# Violation is re-exported: importable from here as before the filter rules moved out.
from aegis.model._filters import Violation as Violation
from aegis.model._filters import find_violation, rejection_message
from aegis.model.enums import MarketKind, OrderSide, OrderType, RejectReason
from aegis.model.errors import ConfigError, OrderRejected
from aegis.model.limits import OpenOrderLimits, PriceBand

ZERO: Final = Decimal(0)
_LIMIT: Final = OrderType.LIMIT
INFINITY: Final = Decimal("Infinity")
PERMISSIVE_INCREMENT: Final = Decimal("1e-12")
# Marks "same as the LOT_SIZE limit" for the market-order limits; replaced in __post_init__.
_SAME_AS_LOT: Final = Decimal("NaN")

_MODES: Final[Mapping[str, str]] = {
    "nearest": ROUND_HALF_EVEN,
    "down": ROUND_FLOOR,
    "up": ROUND_CEILING,
    **{
        mode: mode
        for mode in (
            ROUND_CEILING,
            ROUND_DOWN,
            ROUND_FLOOR,
            ROUND_HALF_DOWN,
            ROUND_HALF_EVEN,
            ROUND_HALF_UP,
            ROUND_UP,
        )
    },
}


def clean_decimal(value: Decimal | str | int) -> Decimal:
    """Return ``value`` as a Decimal without trailing zeros ("0.0001000" -> 0.0001, "10" -> 10)."""
    number = Decimal(value).normalize()
    if number.is_finite() and number.as_tuple().exponent > 0:  # type: ignore[operator]
        # normalize() turns 10 into 1E+1; keep integers readable in messages.
        number = number.quantize(Decimal(1))
    return number


_NORMALISED_CACHE_SIZE: Final = 1024
_CHECKED: Final = "check"  # marks check() keys in the per-instrument memo
_PASSED: Final = (Decimal(0), None)  # the value stored for a check() that passed
_MAX_CACHED_INSTRUMENTS: Final = 4096
# id(instrument) -> (instrument, its normalise results). The instrument is held so that its id
# cannot be reused; a frozen slotted dataclass has no room for the cache itself, and hashing
# all its fields on every order would cost more than the validation saved.
_NORMALISED: dict[int, tuple[Instrument, dict[tuple[Any, ...], tuple[Decimal, Decimal | None]]]]
_NORMALISED = {}


def _normalised_cache(
    instrument: Instrument,
) -> dict[tuple[Any, ...], tuple[Decimal, Decimal | None]]:
    entry = _NORMALISED.get(id(instrument))
    if entry is None or entry[0] is not instrument:
        if len(_NORMALISED) >= _MAX_CACHED_INSTRUMENTS:
            _NORMALISED.clear()
        entry = (instrument, {})
        _NORMALISED[id(instrument)] = entry
    return entry[1]


@dataclass(frozen=True, slots=True, kw_only=True)
class Instrument:
    """A market with its exchange filters; every price, size and fee is a ``Decimal``.

    Grids are anchored at zero: a valid price is a multiple of ``tick_size`` and a valid quantity
    a multiple of ``step_size``. ``max_qty`` of ``Infinity`` means no maximum. The market-order
    limits default to the LOT_SIZE limits. ``contract_size`` converts quantity to base units
    for notional checks and PnL. ``price_band`` bounds a limit price around the venue's
    reference price and ``open_order_limits`` caps the open orders per symbol (both None where
    the venue publishes none).
    """

    symbol: str
    base: str
    quote: str
    tick_size: Decimal
    step_size: Decimal
    kind: MarketKind = MarketKind.SPOT
    min_qty: Decimal = ZERO
    max_qty: Decimal = INFINITY
    market_min_qty: Decimal = _SAME_AS_LOT
    market_max_qty: Decimal = _SAME_AS_LOT
    min_notional: Decimal = ZERO
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    contract_size: Decimal = Decimal(1)
    maker_fee_rate: Decimal = ZERO
    taker_fee_rate: Decimal = ZERO
    price_band: PriceBand | None = None
    open_order_limits: OpenOrderLimits | None = None

    def __post_init__(self) -> None:
        for name in ("tick_size", "step_size", "contract_size"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise ConfigError(f"{name} {value!r} must be a positive Decimal for {self.symbol}")
        if self.market_min_qty.is_nan():
            object.__setattr__(self, "market_min_qty", self.min_qty)
        if self.market_max_qty.is_nan():
            object.__setattr__(self, "market_max_qty", self.max_qty)
        if self.min_qty > self.max_qty:
            raise ConfigError(
                f"min_qty {self.min_qty} above max_qty {self.max_qty} for {self.symbol}"
            )

    # ----------------------------------------------------------------- constructors
    @classmethod
    def permissive(
        cls,
        symbol: str,
        *,
        quote: str | None = None,
        base: str | None = None,
        kind: MarketKind | None = None,
        maker_fee_rate: Decimal = ZERO,
        taker_fee_rate: Decimal = ZERO,
    ) -> Instrument:
        """Build an instrument with no minimum notional, no maximum and a 1e-12 grid.

        ``symbol`` is unified (``BTC/USDT`` spot, ``BTC/USDT:USDT`` linear perpetual); a bare
        ``BTCUSDT`` needs ``quote`` (default ``USDT``) to split off the base.
        """
        pair, _, settle = symbol.partition(":")
        if "/" in pair:
            parsed_base, parsed_quote = pair.split("/", 1)
        else:
            parsed_quote = quote if quote is not None else "USDT"
            has_suffix = pair.endswith(parsed_quote) and len(pair) > len(parsed_quote)
            parsed_base = pair[: -len(parsed_quote)] if has_suffix else pair
        if kind is None:
            kind = MarketKind.LINEAR_PERPETUAL if settle else MarketKind.SPOT
        return cls(
            symbol=symbol,
            base=base if base is not None else parsed_base,
            quote=quote if quote is not None else parsed_quote,
            kind=kind,
            tick_size=PERMISSIVE_INCREMENT,
            step_size=PERMISSIVE_INCREMENT,
            maker_fee_rate=maker_fee_rate,
            taker_fee_rate=taker_fee_rate,
        )

    @classmethod
    def from_binance(cls, entry: Mapping[str, Any], kind: MarketKind | None = None) -> Instrument:
        """Parse one raw Binance ``exchangeInfo`` symbol entry (spot or USD-M futures).

        Raises ``ConfigError`` naming the symbol when a required filter is missing or malformed.
        """
        from aegis.model.binance import instrument_fields_from_binance

        return cls(**instrument_fields_from_binance(entry, kind))

    # ----------------------------------------------------------------- rounding
    def round_price(self, price: Decimal, side: OrderSide, *, mode: str | None = None) -> Decimal:
        """Round ``price`` to the tick grid: a buy rounds down, a sell up, unless ``mode`` is given.

        ``mode`` is a ``decimal`` rounding constant or ``"nearest"`` / ``"down"`` / ``"up"``.
        """
        if mode is None:
            rounding = ROUND_FLOOR if side is OrderSide.BUY else ROUND_CEILING
        else:
            found = _MODES.get(mode)
            if found is None:
                raise ValueError(f"rounding mode {mode!r} is not one of {sorted(_MODES)}")
            rounding = found
        tick = self.tick_size
        units = _WIDE.divide(price, tick).to_integral_value(rounding=rounding)
        return _WIDE.multiply(units, tick)

    def round_quantity(self, quantity: Decimal) -> Decimal:
        """Floor ``quantity`` to the step grid (never rounds up: never buys more than asked)."""
        step = self.step_size
        units = _WIDE.divide(quantity, step).to_integral_value(rounding=ROUND_FLOOR)
        return _WIDE.multiply(units, step)

    # ----------------------------------------------------------------- validation
    def validate(
        self,
        order_type: OrderType,
        side: OrderSide,
        quantity: Decimal,
        price: Decimal | None = None,
        *,
        stop_price: Decimal | None = None,
        reference_price: Decimal | None = None,
        reduce_only: bool = False,
    ) -> RejectReason | None:
        """Return why the order breaks a filter, or None when it passes every filter.

        Market orders use the market-order quantity limits; their notional is checked against
        ``reference_price`` (e.g. the last close) and skipped when it is None. Triggered market
        orders (stop-market, take-profit without price) use ``stop_price`` for the notional.
        A ``reduce_only`` order on a derivative is exempt from the minimum notional, as on
        Binance USD-M: a small residual position must always be closable.
        """
        found = find_violation(
            self, order_type, quantity, price, stop_price, reference_price, reduce_only, side
        )
        return None if found is None else found[0]

    def check(
        self,
        order_type: OrderType,
        side: OrderSide,
        quantity: Decimal,
        price: Decimal | None = None,
        *,
        stop_price: Decimal | None = None,
        reference_price: Decimal | None = None,
        reduce_only: bool = False,
    ) -> None:
        """Raise ``OrderRejected`` naming symbol, field, value and filter if a filter fails.

        Passing inputs are memoised per instrument (the simulated exchange checks every order
        again); the reference price only joins the key where it matters: with a min notional,
        or for a limit price under a price band.
        """
        # inline: this runs for every order of a backtest (a method call costs more)
        reference_key = (
            reference_price
            if self.min_notional > ZERO or (self.price_band is not None and order_type is _LIMIT)
            else None
        )
        key = (_CHECKED, order_type, side, quantity, price, stop_price, reference_key, reduce_only)
        # _normalised_cache's lookup first, written out: every order is checked twice
        entry = _NORMALISED.get(id(self))
        cache = entry[1] if entry is not None and entry[0] is self else _normalised_cache(self)
        if key in cache:
            return
        found = find_violation(
            self, order_type, quantity, price, stop_price, reference_price, reduce_only, side
        )
        if found is None:
            if len(cache) >= _NORMALISED_CACHE_SIZE:
                cache.clear()
            cache[key] = _PASSED
            return
        raise OrderRejected(rejection_message(self.symbol, order_type, found), found[0])

    def normalise(
        self,
        order_type: OrderType,
        side: OrderSide,
        quantity: Decimal,
        price: Decimal | None = None,
        *,
        stop_price: Decimal | None = None,
        reference_price: Decimal | None = None,
        reduce_only: bool = False,
    ) -> tuple[Decimal, Decimal | None]:
        """Round quantity (floor) and price (by side) to the grid, then ``check`` them.

        ``stop_price`` is checked, not rounded: round it first with ``round_price``.
        Returns ``(quantity, price)``; raises ``OrderRejected`` when the result breaks a filter.
        Valid results are memoised per instrument: the instrument is immutable, so the same
        inputs always give the same answer (a strategy sends the same size again and again).
        """
        # inline: this runs for every order of a backtest (a method call costs more)
        reference_key = (
            reference_price
            if self.min_notional > ZERO or (self.price_band is not None and order_type is _LIMIT)
            else None
        )
        key = (order_type, side, quantity, price, stop_price, reference_key, reduce_only)
        entry = _NORMALISED.get(id(self))  # as in check
        cache = entry[1] if entry is not None and entry[0] is self else _normalised_cache(self)
        found = cache.get(key)
        if found is not None:
            return found
        rounded_quantity = self.round_quantity(quantity)
        rounded_price = None if price is None else self.round_price(price, side)
        self.check(
            order_type,
            side,
            rounded_quantity,
            rounded_price,
            stop_price=stop_price,
            reference_price=reference_price,
            reduce_only=reduce_only,
        )
        result = (rounded_quantity, rounded_price)
        if len(cache) >= _NORMALISED_CACHE_SIZE:
            cache.clear()
        cache[key] = result
        return result

    def notional(self, quantity: Decimal, price: Decimal) -> Decimal:
        """Return the quote value of ``quantity`` contracts at ``price``."""
        return quantity * price * self.contract_size
