"""Builders of local and venue records for the reconciliation tests."""

from __future__ import annotations

from decimal import Decimal

from aegis.model import (
    Fill,
    LiquidityRole,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
)
from aegis.venues.base import VenueOrder, VenuePosition

SYMBOL = "BTC/USDT:USDT"


def order(
    cid: str,
    status: OrderStatus = OrderStatus.ACCEPTED,
    *,
    quantity: str = "1",
    filled: str = "0",
    price: str | None = "100",
    average: str | None = None,
    side: OrderSide = OrderSide.BUY,
    updated_ns: int = 1_000,
    symbol: str = SYMBOL,
    position_side: PositionSide | None = None,
) -> Order:
    return Order(
        client_order_id=cid,
        bot_id="bot1",
        symbol=symbol,
        side=side,
        type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        quantity=Decimal(quantity),
        price=None if price is None else Decimal(price),
        status=status,
        filled_quantity=Decimal(filled),
        average_fill_price=None if average is None else Decimal(average),
        venue_order_id=f"v-{cid}",
        created_ns=1_000,
        updated_ns=updated_ns,
        position_side=position_side,
    )


def venue_order(
    cid: str | None,
    status: OrderStatus = OrderStatus.ACCEPTED,
    *,
    quantity: str = "1",
    filled: str = "0",
    price: str | None = "100",
    average: str | None = None,
    side: OrderSide = OrderSide.BUY,
    venue_id: str | None = None,
    symbol: str = SYMBOL,
) -> VenueOrder:
    return VenueOrder(
        client_order_id=cid,
        venue_order_id=venue_id or f"v-{cid}",
        symbol=symbol,
        side=side,
        type=OrderType.LIMIT if price is not None else OrderType.MARKET,
        status=status,
        quantity=Decimal(quantity),
        filled_quantity=Decimal(filled),
        average_price=None if average is None else Decimal(average),
        price=None if price is None else Decimal(price),
        created_ms=1,
        updated_ms=2,
    )


def fill(
    cid: str,
    trade_id: str,
    quantity: str = "1",
    price: str = "100",
    *,
    side: OrderSide = OrderSide.BUY,
    ts_ns: int = 5_000,
    fee: str = "0.1",
    position_side: PositionSide | None = None,
    symbol: str = SYMBOL,
) -> Fill:
    return Fill(
        client_order_id=cid,
        symbol=symbol,
        side=side,
        price=Decimal(price),
        quantity=Decimal(quantity),
        fee=Decimal(fee),
        fee_currency="USDT",
        liquidity=LiquidityRole.TAKER,
        ts_ns=ts_ns,
        trade_id=trade_id,
        position_side=position_side,
    )


def leg(side: PositionSide, quantity: str, price: str = "100", symbol: str = SYMBOL) -> Position:
    return Position(
        symbol=symbol, side=side, quantity=Decimal(quantity), average_entry_price=Decimal(price)
    )


def venue_leg(
    side: PositionSide, quantity: str, price: str = "100", symbol: str = SYMBOL
) -> VenuePosition:
    return VenuePosition(
        symbol=symbol, side=side, quantity=Decimal(quantity), entry_price=Decimal(price)
    )
