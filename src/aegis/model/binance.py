"""Parse raw Binance ``exchangeInfo`` symbol entries (spot and USD-M futures) into filters."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from aegis.model.enums import MarketKind
from aegis.model.errors import ConfigError
from aegis.model.limits import OpenOrderLimits, PriceBand

_ZERO = Decimal(0)
_INFINITY = Decimal("Infinity")


def _decimal(symbol: str, filter_name: str, key: str, raw: object) -> Decimal:
    from aegis.model.instrument import clean_decimal

    try:
        # Binance sends decimal strings ("0.0001000"); a few fields arrive as JSON numbers.
        return clean_decimal(str(raw))
    except InvalidOperation as error:
        raise ConfigError(
            f"{filter_name}.{key} {raw!r} is not a number for Binance symbol {symbol}"
        ) from error


def _filters(entry: Mapping[str, Any], symbol: str) -> dict[str, Mapping[str, Any]]:
    raw_filters = entry.get("filters")
    if not isinstance(raw_filters, list):
        raise ConfigError(f"Binance symbol {symbol} has no 'filters' list")
    return {str(item.get("filterType")): item for item in raw_filters if isinstance(item, Mapping)}


def _detect_kind(entry: Mapping[str, Any]) -> MarketKind:
    contract_type = entry.get("contractType")
    if contract_type is None:
        return MarketKind.SPOT
    # BTCSTUSDT (PENDING_TRADING) has an empty contractType: a perpetual not yet listed.
    if contract_type in ("", "PERPETUAL"):
        return MarketKind.LINEAR_PERPETUAL
    return MarketKind.LINEAR_FUTURE


def _unified_symbol(entry: Mapping[str, Any], base: str, quote: str, kind: MarketKind) -> str:
    if kind is MarketKind.SPOT:
        return f"{base}/{quote}"
    settle = str(entry.get("marginAsset") or quote)
    symbol = f"{base}/{quote}:{settle}"
    if kind is MarketKind.LINEAR_FUTURE:
        # ccxt's unified notation for a dated future: BTC/USDT:USDT-241227.
        raw_symbol = str(entry.get("symbol", ""))
        _, _, expiry = raw_symbol.partition("_")
        if expiry:
            symbol = f"{symbol}-{expiry}"
    return symbol


def _positive_or_none(value: Decimal) -> Decimal | None:
    # Binance disables a price bound by sending 0.
    return value if value > 0 else None


def instrument_fields_from_binance(
    entry: Mapping[str, Any], kind: MarketKind | None = None
) -> dict[str, Any]:
    """Return ``Instrument`` keyword arguments for one raw exchangeInfo symbol entry.

    Spot ``MARKET_LOT_SIZE`` sends 0 for "no own limit" and market orders must also meet
    LOT_SIZE, so spot market limits are the tighter of both; USD-M futures check market orders
    against ``MARKET_LOT_SIZE`` alone. Minimum notional comes from ``MIN_NOTIONAL.notional``
    (futures) or ``NOTIONAL`` / ``MIN_NOTIONAL`` ``minNotional`` (spot).
    """
    raw_symbol = str(entry.get("symbol", "?"))
    base = entry.get("baseAsset")
    quote = entry.get("quoteAsset")
    if not base or not quote:
        raise ConfigError(f"Binance symbol {raw_symbol} lacks baseAsset or quoteAsset")
    kind = _detect_kind(entry) if kind is None else kind
    filters = _filters(entry, raw_symbol)

    def value(filter_name: str, key: str) -> Decimal:
        found = filters.get(filter_name)
        if found is None or key not in found:
            raise ConfigError(f"Binance symbol {raw_symbol} lacks {filter_name}.{key}")
        return _decimal(raw_symbol, filter_name, key, found[key])

    tick_size = value("PRICE_FILTER", "tickSize")
    step_size = value("LOT_SIZE", "stepSize")
    min_qty = value("LOT_SIZE", "minQty")
    max_qty = value("LOT_SIZE", "maxQty")
    market_min_qty, market_max_qty = min_qty, max_qty
    if "MARKET_LOT_SIZE" in filters:
        market_min = value("MARKET_LOT_SIZE", "minQty")
        market_max = value("MARKET_LOT_SIZE", "maxQty")
        if kind is MarketKind.SPOT:
            market_min_qty = max(min_qty, market_min)
            market_max_qty = min(max_qty, market_max) if market_max > 0 else max_qty
        else:
            market_min_qty = market_min
            market_max_qty = market_max if market_max > 0 else _INFINITY
    min_notional = _ZERO
    if "MIN_NOTIONAL" in filters and "notional" in filters["MIN_NOTIONAL"]:
        min_notional = value("MIN_NOTIONAL", "notional")
    elif "NOTIONAL" in filters:
        min_notional = value("NOTIONAL", "minNotional")
    elif "MIN_NOTIONAL" in filters:
        min_notional = value("MIN_NOTIONAL", "minNotional")
    contract_size = Decimal(1)
    if "contractSize" in entry:  # coin-margined entries only; USD-M contracts are 1 base unit
        contract_size = _decimal(raw_symbol, "entry", "contractSize", entry["contractSize"])
    return {
        "symbol": _unified_symbol(entry, str(base), str(quote), kind),
        "base": str(base),
        "quote": str(quote),
        "kind": kind,
        "tick_size": tick_size,
        "step_size": step_size,
        "min_qty": min_qty,
        "max_qty": max_qty,
        "market_min_qty": market_min_qty,
        "market_max_qty": market_max_qty,
        "min_notional": min_notional,
        "min_price": _positive_or_none(value("PRICE_FILTER", "minPrice")),
        "max_price": _positive_or_none(value("PRICE_FILTER", "maxPrice")),
        "contract_size": contract_size,
        "price_band": _price_band(filters, raw_symbol, kind),
        "open_order_limits": _open_order_limits(filters, raw_symbol, kind),
    }


def _price_band(
    filters: Mapping[str, Mapping[str, Any]], symbol: str, kind: MarketKind
) -> PriceBand | None:
    """Read ``PERCENT_PRICE`` (futures: one end per side; old spot: both ends) or spot's
    ``PERCENT_PRICE_BY_SIDE`` (both ends per side)."""
    by_side = filters.get("PERCENT_PRICE_BY_SIDE")
    try:
        if by_side is not None:
            bid_down, bid_up, ask_down, ask_up = (
                _decimal(symbol, "PERCENT_PRICE_BY_SIDE", key, by_side.get(key))
                for key in (
                    "bidMultiplierDown",
                    "bidMultiplierUp",
                    "askMultiplierDown",
                    "askMultiplierUp",
                )
            )
            return PriceBand(
                buy_down=bid_down,
                buy_up=bid_up,
                sell_down=ask_down,
                sell_up=ask_up,
                reference=_average_price_name(by_side),
            )
        percent = filters.get("PERCENT_PRICE")
        if percent is None:
            return None
        down, up = _percent_multipliers(percent, symbol)
        if kind is MarketKind.SPOT:
            reference = _average_price_name(percent)
            return PriceBand(
                buy_down=down, buy_up=up, sell_down=down, sell_up=up, reference=reference
            )
        # USD-M: "BUY: price <= markPrice * multiplierUp; SELL: price >= markPrice * multiplierDown"
        return PriceBand(buy_up=up, sell_down=down, reference="mark price")
    except ConfigError as error:
        raise ConfigError(f"{error} for Binance symbol {symbol}") from error


def _percent_multipliers(percent: Mapping[str, Any], symbol: str) -> tuple[Decimal, Decimal]:
    down = _decimal(symbol, "PERCENT_PRICE", "multiplierDown", percent.get("multiplierDown"))
    up = _decimal(symbol, "PERCENT_PRICE", "multiplierUp", percent.get("multiplierUp"))
    places = percent.get("multiplierDecimal")
    raw_up = str(percent.get("multiplierUp"))
    if places is not None and "." not in raw_up:
        # Some listings (BTCSTUSDT, PENDING_TRADING) send the multipliers as integers scaled by
        # 10^multiplierDecimal: "11500" / "8500" with 4 places mean 1.15 / 0.85.
        scale = Decimal(10) ** int(str(places))
        if up >= scale:
            down, up = down / scale, up / scale
    return down, up


def _average_price_name(entry: Mapping[str, Any]) -> str:
    minutes = entry.get("avgPriceMins")
    if minutes in (None, 0, "0"):
        return "last price"
    return f"{minutes}-minute average price"


def _open_order_limits(
    filters: Mapping[str, Mapping[str, Any]], symbol: str, kind: MarketKind
) -> OpenOrderLimits | None:
    """Read ``MAX_NUM_ORDERS`` / ``MAX_NUM_ALGO_ORDERS`` (``limit`` on futures, ``maxNum...`` on
    spot). Spot counts conditional orders in both caps, futures in the algo cap only."""
    max_orders = _count(filters, symbol, "MAX_NUM_ORDERS", ("limit", "maxNumOrders"))
    max_algo = _count(filters, symbol, "MAX_NUM_ALGO_ORDERS", ("limit", "maxNumAlgoOrders"))
    if max_orders is None and max_algo is None:
        return None
    return OpenOrderLimits(
        max_orders=max_orders,
        max_conditional=max_algo,
        conditional_in_max_orders=kind is MarketKind.SPOT,
    )


def _count(
    filters: Mapping[str, Mapping[str, Any]], symbol: str, name: str, keys: tuple[str, ...]
) -> int | None:
    found = filters.get(name)
    if found is None:
        return None
    for key in keys:
        if key in found:
            raw = found[key]
            try:
                value = int(str(raw))
            except ValueError as error:
                raise ConfigError(
                    f"{name}.{key} {raw!r} is not an integer for Binance symbol {symbol}"
                ) from error
            if value < 1:
                raise ConfigError(f"{name}.{key} {raw!r} must be >= 1 for Binance symbol {symbol}")
            return value
    raise ConfigError(f"Binance symbol {symbol} lacks {name}.{' or '.join(keys)}")
