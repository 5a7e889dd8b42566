"""Turn ccxt's unified structures (orders, trades, positions, candles) into Aegis types."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from aegis.model.candle import Candle
from aegis.model.enums import LiquidityRole, OrderSide, OrderStatus, OrderType, PositionSide
from aegis.model.errors import VenueError
from aegis.model.events import Fill
from aegis.venues.base import PublicTrade, VenueOrder, VenuePosition
from aegis.venues.ccxt.markets import to_decimal

_MS_TO_NS: Final = 1_000_000
_ZERO: Final = Decimal(0)

# ccxt unified status -> ours. 'open' with fills becomes PARTIALLY_FILLED (see order_status).
_STATUSES: Final[Mapping[str, OrderStatus]] = {
    "open": OrderStatus.ACCEPTED,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}

# ccxt unified (lower-case) and raw Binance type names -> ours.
_TYPES: Final[Mapping[str, OrderType]] = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop_market": OrderType.STOP_MARKET,
    "stop": OrderType.STOP_LIMIT,
    "stop_limit": OrderType.STOP_LIMIT,
    "stop-limit": OrderType.STOP_LIMIT,
    "stop_loss": OrderType.STOP_MARKET,
    "take_profit": OrderType.TAKE_PROFIT,
    "take_profit_market": OrderType.TAKE_PROFIT,
    "take-profit": OrderType.TAKE_PROFIT,
}


def _decimal(raw: Mapping[str, Any], key: str, symbol: str) -> Decimal | None:
    return to_decimal(raw.get(key), field=key, symbol=symbol)


def _side(raw: Mapping[str, Any], context: str) -> OrderSide:
    side = str(raw.get("side") or "").lower()
    if side not in ("buy", "sell"):
        raise VenueError(f"{context}: side {raw.get('side')!r} is neither buy nor sell")
    return OrderSide(side)


def order_status(raw: Mapping[str, Any], filled: Decimal) -> OrderStatus:
    """Map a ccxt order's ``status`` (and fill progress) to ``OrderStatus``."""
    text = str(raw.get("status") or "open").lower()
    status = _STATUSES.get(text)
    if status is None:
        raise VenueError(f"order {raw.get('clientOrderId')}: unknown status {text!r}")
    if status is OrderStatus.ACCEPTED and filled > 0:
        return OrderStatus.PARTIALLY_FILLED
    return status


def venue_order(raw: Mapping[str, Any], *, is_conditional: bool = False) -> VenueOrder:
    """Build a ``VenueOrder`` from a ccxt order structure."""
    symbol = str(raw.get("symbol"))
    filled = _decimal(raw, "filled", symbol) or _ZERO
    amount = _decimal(raw, "amount", symbol) or _ZERO
    average = _decimal(raw, "average", symbol)
    stop_price = _decimal(raw, "triggerPrice", symbol) or _decimal(raw, "stopPrice", symbol)
    raw_type = str(raw.get("type") or "").lower()
    client_id = raw.get("clientOrderId")
    return VenueOrder(
        client_order_id=None if client_id is None else str(client_id),
        venue_order_id=str(raw.get("id")),
        symbol=symbol,
        side=_side(raw, f"order {client_id}"),
        type=_TYPES.get(raw_type),
        status=order_status(raw, filled),
        quantity=amount,
        filled_quantity=filled,
        average_price=average if average is not None and average > 0 else None,
        price=_decimal(raw, "price", symbol) or None,
        stop_price=stop_price or None,
        reduce_only=bool(raw.get("reduceOnly")),
        is_conditional=is_conditional or stop_price is not None,
        created_ms=_int_or_none(raw.get("timestamp")),
        updated_ms=_int_or_none(raw.get("lastUpdateTimestamp") or raw.get("lastTradeTimestamp")),
    )


def _int_or_none(value: object) -> int | None:
    if value is None:
        return None
    return int(str(value))


def _liquidity(raw: Mapping[str, Any]) -> LiquidityRole:
    return LiquidityRole.MAKER if raw.get("takerOrMaker") == "maker" else LiquidityRole.TAKER


def fill_from_trade(raw: Mapping[str, Any], client_ids: Mapping[str, str]) -> Fill:
    """Build a ``Fill`` from a ccxt trade; ``client_ids`` maps venue order id -> client id.

    A trade of an order we cannot name keeps the venue order id as its client id, so
    reconciliation can still report it as "missing locally".
    """
    symbol = str(raw.get("symbol"))
    order_id = str(raw.get("order"))
    fee = raw.get("fee") or {}
    price = _decimal(raw, "price", symbol)
    quantity = _decimal(raw, "amount", symbol)
    if price is None or quantity is None:
        raise VenueError(f"trade {raw.get('id')} of {symbol} lacks price or amount")
    return Fill(
        client_order_id=client_ids.get(order_id, order_id),
        symbol=symbol,
        side=_side(raw, f"trade {raw.get('id')}"),
        price=price,
        quantity=quantity,
        fee=to_decimal(fee.get("cost"), field="fee.cost", symbol=symbol) or _ZERO,
        fee_currency=str(fee.get("currency") or ""),
        liquidity=_liquidity(raw),
        ts_ns=int(raw.get("timestamp") or 0) * _MS_TO_NS,
        trade_id=str(raw.get("id")),
    )


def public_trade(raw: Mapping[str, Any]) -> PublicTrade:
    """Build a ``PublicTrade`` from a ccxt trade of the public stream."""
    symbol = str(raw.get("symbol"))
    side = str(raw.get("side") or "").lower()
    return PublicTrade(
        symbol=symbol,
        trade_id=str(raw.get("id")),
        ts_ms=int(raw.get("timestamp") or 0),
        price=_decimal(raw, "price", symbol) or _ZERO,
        quantity=_decimal(raw, "amount", symbol) or _ZERO,
        side=OrderSide(side) if side in ("buy", "sell") else None,
    )


def venue_position(raw: Mapping[str, Any]) -> VenuePosition | None:
    """Build a ``VenuePosition`` from a ccxt position; None when it is flat."""
    symbol = str(raw.get("symbol"))
    contracts = _decimal(raw, "contracts", symbol) or _ZERO
    if contracts == 0:
        return None
    side_text = str(raw.get("side") or "").lower()
    if side_text not in ("long", "short"):
        side_text = "long" if contracts > 0 else "short"
    return VenuePosition(
        symbol=symbol,
        side=PositionSide(side_text),
        quantity=abs(contracts),
        entry_price=_decimal(raw, "entryPrice", symbol),
        mark_price=_decimal(raw, "markPrice", symbol),
        unrealised_pnl=_decimal(raw, "unrealizedPnl", symbol),
        leverage=_decimal(raw, "leverage", symbol),
    )


def candle(row: Sequence[Any]) -> Candle:
    """Build a ``Candle`` from a ccxt OHLCV row ``[ts_ms, open, high, low, close, volume]``."""
    return Candle(
        ts_ms=int(row[0]),
        open=float(row[1]),
        high=float(row[2]),
        low=float(row[3]),
        close=float(row[4]),
        volume=float(row[5] or 0.0),
    )
