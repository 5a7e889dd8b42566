"""Build ``Instrument`` filters from ccxt market structures (PR2: the venue's own filters)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import structlog
from ccxt.base.decimal_to_precision import DECIMAL_PLACES, SIGNIFICANT_DIGITS, TICK_SIZE

from aegis.model.enums import MarketKind
from aegis.model.errors import ConfigError
from aegis.model.instrument import INFINITY, ZERO, Instrument, clean_decimal

log = structlog.get_logger(__name__)

_TEN: Final = Decimal(10)


def to_decimal(value: object, *, field: str, symbol: str) -> Decimal | None:
    """Return a ccxt number (str, int or float) as a Decimal; None stays None.

    Floats go through ``repr`` (shortest round trip), never ``Decimal(float)``.
    """
    if value is None or value == "":
        return None
    try:
        text = repr(value) if isinstance(value, float) else str(value)
        return clean_decimal(text)
    except (InvalidOperation, ValueError) as error:
        raise ConfigError(f"{field} {value!r} is not a number for market {symbol}") from error


def increment(precision: object, precision_mode: int, *, field: str, symbol: str) -> Decimal:
    """Turn a ccxt ``precision`` entry into a grid increment for ``precision_mode``.

    TICK_SIZE: the value is the increment. DECIMAL_PLACES: ``n`` means ``10**-n``.
    SIGNIFICANT_DIGITS has no fixed grid and raises ``ConfigError``.
    """
    value = to_decimal(precision, field=field, symbol=symbol)
    if value is None:
        raise ConfigError(f"{field} is missing for market {symbol}")
    if precision_mode == TICK_SIZE:
        return value
    if precision_mode == DECIMAL_PLACES:
        return clean_decimal(_TEN.scaleb(-int(value) - 1))
    if precision_mode == SIGNIFICANT_DIGITS:
        raise ConfigError(
            f"{field} {precision!r} of market {symbol} is in significant digits: no fixed grid"
        )
    raise ConfigError(f"precisionMode {precision_mode!r} unknown for market {symbol}")


def market_kind(market: Mapping[str, Any]) -> MarketKind | None:
    """Return our kind for a ccxt market, or None for kinds Aegis does not trade."""
    if market.get("spot"):
        return MarketKind.SPOT
    if market.get("linear"):
        if market.get("swap"):
            return MarketKind.LINEAR_PERPETUAL
        if market.get("future"):
            return MarketKind.LINEAR_FUTURE
    return None  # inverse, options, margin-only


def _limit(market: Mapping[str, Any], group: str, bound: str, symbol: str) -> Decimal | None:
    limits = market.get("limits") or {}
    entry = limits.get(group) or {}
    return to_decimal(entry.get(bound), field=f"limits.{group}.{bound}", symbol=symbol)


def _fees(market: Mapping[str, Any], symbol: str) -> dict[str, Any]:
    fees: dict[str, Any] = {}
    for key, name in (("maker", "maker_fee_rate"), ("taker", "taker_fee_rate")):
        value = to_decimal(market.get(key), field=key, symbol=symbol)
        if value is not None:
            fees[name] = value
    return fees


def instrument_from_market(market: Mapping[str, Any], precision_mode: int) -> Instrument:
    """Build the instrument of one ccxt market from its ``precision`` and ``limits``.

    Raises ``ConfigError`` naming the market when a grid is missing or unusable.
    """
    symbol = str(market.get("symbol"))
    kind = market_kind(market)
    if kind is None:
        raise ConfigError(f"market {symbol} is neither spot nor linear: not supported")
    precision = market.get("precision") or {}
    min_qty = _limit(market, "amount", "min", symbol)
    max_qty = _limit(market, "amount", "max", symbol)
    market_min = _limit(market, "market", "min", symbol)
    market_max = _limit(market, "market", "max", symbol)
    fields: dict[str, Any] = {
        "symbol": symbol,
        "base": str(market.get("base")),
        "quote": str(market.get("quote")),
        "kind": kind,
        "tick_size": increment(
            precision.get("price"), precision_mode, field="precision.price", symbol=symbol
        ),
        "step_size": increment(
            precision.get("amount"), precision_mode, field="precision.amount", symbol=symbol
        ),
        "min_qty": ZERO if min_qty is None else min_qty,
        "max_qty": INFINITY if max_qty is None or max_qty <= 0 else max_qty,
        "min_notional": _limit(market, "cost", "min", symbol) or ZERO,
        "min_price": _limit(market, "price", "min", symbol) or None,
        "max_price": _limit(market, "price", "max", symbol) or None,
        "contract_size": to_decimal(market.get("contractSize"), field="contractSize", symbol=symbol)
        or Decimal(1),
    }
    if market_min is not None:
        fields["market_min_qty"] = market_min
    if market_max is not None and market_max > 0:
        fields["market_max_qty"] = market_max
    return Instrument(**fields, **_fees(market, symbol))


def instrument_from_binance_market(market: Mapping[str, Any]) -> Instrument:
    """Build a Binance instrument from the raw exchangeInfo entry ccxt keeps in ``info``.

    The raw filters are the ones the exchange checks; ccxt's symbol and fee rates are kept.
    """
    symbol = str(market.get("symbol"))
    info = market.get("info")
    if not isinstance(info, Mapping):
        raise ConfigError(f"market {symbol} has no raw exchangeInfo entry in 'info'")
    parsed = Instrument.from_binance(info, market_kind(market))
    return dataclasses.replace(parsed, symbol=symbol, **_fees(market, symbol))


def load_instruments(
    markets: Mapping[str, Mapping[str, Any]], precision_mode: int, *, binance_filters: bool
) -> dict[str, Instrument]:
    """Return the instruments of every supported, active market keyed by unified symbol.

    A market whose filters cannot be turned into an instrument is skipped with a warning: one
    odd listing must not stop trading on every other symbol.
    """
    instruments: dict[str, Instrument] = {}
    for symbol, market in markets.items():
        if market_kind(market) is None or market.get("active") is False:
            continue
        try:
            if binance_filters:
                instrument = instrument_from_binance_market(market)
            else:
                instrument = instrument_from_market(market, precision_mode)
        except ConfigError as error:
            log.warning("market_skipped", symbol=symbol, reason=str(error))
            continue
        instruments[symbol] = instrument
    return instruments
