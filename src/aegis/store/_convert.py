"""Conversions between rows and model values (the store returns model types, not rows)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping

from aegis.model import (
    Fill,
    LiquidityRole,
    Order,
    OrderEventKind,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    TimeInForce,
    bot_key,
    parse_client_order_id,
)
from aegis.store.errors import StoreError
from aegis.store.records import INTENT_EVENT, OrderEventRecord, TradeRecord


def order_values(tenant: str, order: Order) -> dict[str, Any]:
    """Return the ``orders`` columns of ``order`` (enums as their values)."""
    return {
        "tenant_id": tenant,
        "client_order_id": order.client_order_id,
        "bot_id": order.bot_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "type": order.type.value,
        "quantity": order.quantity,
        "price": order.price,
        "stop_price": order.stop_price,
        "time_in_force": order.time_in_force.value,
        "reduce_only": order.reduce_only,
        "position_side": None if order.position_side is None else order.position_side.value,
        "status": order.status.value,
        "filled_quantity": order.filled_quantity,
        "average_fill_price": order.average_fill_price,
        "venue_order_id": order.venue_order_id,
        "created_ns": order.created_ns,
        "updated_ns": order.updated_ns,
        "tag": order.tag,
        "reason": order.reason,
    }


def order_from_row(row: RowMapping) -> Order:
    """Build an ``Order`` from an ``orders`` row."""
    position_side = row["position_side"]
    return Order(
        client_order_id=row["client_order_id"],
        bot_id=row["bot_id"],
        symbol=row["symbol"],
        side=OrderSide(row["side"]),
        type=OrderType(row["type"]),
        quantity=row["quantity"],
        price=row["price"],
        stop_price=row["stop_price"],
        time_in_force=TimeInForce(row["time_in_force"]),
        reduce_only=bool(row["reduce_only"]),
        position_side=None if position_side is None else PositionSide(position_side),
        status=OrderStatus(row["status"]),
        filled_quantity=row["filled_quantity"],
        average_fill_price=row["average_fill_price"],
        venue_order_id=row["venue_order_id"],
        created_ns=row["created_ns"],
        updated_ns=row["updated_ns"],
        tag=row["tag"],
        reason=row["reason"],
    )


def fill_values(tenant: str, bot_id: str, fill: Fill, recorded_ns: int) -> dict[str, Any]:
    """Return the ``fills`` columns of ``fill``."""
    return {
        "tenant_id": tenant,
        "bot_id": bot_id,
        "client_order_id": fill.client_order_id,
        "trade_id": fill.trade_id,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "price": fill.price,
        "quantity": fill.quantity,
        "fee": fill.fee,
        "fee_currency": fill.fee_currency,
        "liquidity": fill.liquidity.value,
        "position_side": None if fill.position_side is None else fill.position_side.value,
        "ts_ns": fill.ts_ns,
        "recorded_ns": recorded_ns,
    }


def fill_from_row(row: RowMapping) -> Fill:
    """Build a ``Fill`` from a ``fills`` row."""
    position_side = row["position_side"]
    return Fill(
        client_order_id=row["client_order_id"],
        symbol=row["symbol"],
        side=OrderSide(row["side"]),
        price=row["price"],
        quantity=row["quantity"],
        fee=row["fee"],
        fee_currency=row["fee_currency"],
        liquidity=LiquidityRole(row["liquidity"]),
        ts_ns=row["ts_ns"],
        trade_id=row["trade_id"],
        position_side=None if position_side is None else PositionSide(position_side),
    )


def position_values(tenant: str, bot_id: str, position: Position, now: int) -> dict[str, Any]:
    """Return the ``positions`` columns of ``position``."""
    return {
        "tenant_id": tenant,
        "bot_id": bot_id,
        "symbol": position.symbol,
        "side": position.side.value,
        "quantity": position.quantity,
        "average_entry_price": position.average_entry_price,
        "realised_pnl": position.realised_pnl,
        "fees_paid": position.fees_paid,
        "funding_received": position.funding_received,
        "contract_size": position.contract_size,
        "updated_ns": now,
    }


def position_from_row(row: RowMapping) -> Position:
    """Build a ``Position`` from a ``positions`` row."""
    return Position(
        symbol=row["symbol"],
        side=PositionSide(row["side"]),
        quantity=row["quantity"],
        average_entry_price=row["average_entry_price"],
        realised_pnl=row["realised_pnl"],
        fees_paid=row["fees_paid"],
        funding_received=row["funding_received"],
        contract_size=row["contract_size"],
    )


def trade_values(tenant: str, trade: TradeRecord, now: int) -> dict[str, Any]:
    """Return the ``trades`` columns of ``trade``."""
    return {
        "tenant_id": tenant,
        "bot_id": trade.bot_id,
        "trade_id": trade.trade_id,
        "symbol": trade.symbol,
        "side": trade.side.value,
        "entry_ts_ns": trade.entry_ts_ns,
        "exit_ts_ns": trade.exit_ts_ns,
        "entry_price": trade.entry_price,
        "exit_price": trade.exit_price,
        "quantity": trade.quantity,
        "pnl": trade.pnl,
        "fees": trade.fees,
        "is_open": trade.is_open,
        "updated_ns": now,
        "leg_net_at_open": trade.leg_net_at_open,
        "leg_fees_at_open": trade.leg_fees_at_open,
        "exited_quantity": trade.exited_quantity,
        "exit_notional": trade.exit_notional,
    }


def trade_from_row(row: RowMapping) -> TradeRecord:
    """Build a ``TradeRecord`` from a ``trades`` row."""
    return TradeRecord(
        trade_id=row["trade_id"],
        bot_id=row["bot_id"],
        symbol=row["symbol"],
        side=PositionSide(row["side"]),
        entry_ts_ns=row["entry_ts_ns"],
        entry_price=row["entry_price"],
        quantity=row["quantity"],
        pnl=row["pnl"],
        fees=row["fees"],
        is_open=bool(row["is_open"]),
        exit_ts_ns=row["exit_ts_ns"],
        exit_price=row["exit_price"],
        leg_net_at_open=row["leg_net_at_open"],
        leg_fees_at_open=row["leg_fees_at_open"],
        exited_quantity=row["exited_quantity"],
        exit_notional=row["exit_notional"],
    )


def event_from_row(row: RowMapping) -> OrderEventRecord:
    """Build an ``OrderEventRecord`` from an ``order_events`` row."""
    kind = row["kind"]
    previous = row["previous_status"]
    return OrderEventRecord(
        client_order_id=row["client_order_id"],
        kind=None if kind == INTENT_EVENT else OrderEventKind(kind),
        previous_status=None if previous is None else OrderStatus(previous),
        status=OrderStatus(row["status"]),
        ts_ns=row["ts_ns"],
        venue_order_id=row["venue_order_id"],
        trade_id=row["trade_id"],
        reason=row["reason"],
    )


# ----------------------------------------------------------------- the hot path's rows
def following_sequence(order: Order) -> int | None:
    """The sequence after a caller-made client id of the bot's own (None: a foreign id)."""
    try:
        parts = parse_client_order_id(order.client_order_id)
    except ValueError:
        return None  # a foreign id (e.g. adopted from the venue): not from our sequence
    if parts.bot_key != bot_key(order.bot_id):
        return None
    return parts.sequence + 1


def intent_rows(
    tenant: str, order: Order, now_ns: int
) -> tuple[dict[str, object], dict[str, object]]:
    """The ``orders`` row and the intent's ``order_events`` row of ``order``."""
    values: dict[str, object] = order_values(tenant, order)
    values["recorded_ns"] = now_ns
    values["closed_ns"] = order.updated_ns if order.status.is_terminal else None
    event: dict[str, object] = {
        "tenant_id": tenant,
        "client_order_id": order.client_order_id,
        "kind": INTENT_EVENT,
        "previous_status": None,
        "status": order.status.value,
        "ts_ns": order.created_ns,
        "recorded_ns": now_ns,
        "venue_order_id": order.venue_order_id,
        "trade_id": None,
        "reason": order.reason,
    }
    return values, event


def already_reserved(released_ns: int | None, bot_id: str, order_id: str) -> bool:
    """An order reserves once: True when its reservation is held, an error once released."""
    if released_ns is not None:
        raise StoreError(
            f"reservation of order {order_id!r} (bot {bot_id!r}) was released; "
            "an order reserves capital once"
        )
    return True


def reservation_row(
    tenant: str, bot_id: str, order_id: str, amount: Decimal, now_ns: int
) -> dict[str, object]:
    """The ``capital_reservations`` row of a new reservation."""
    return {
        "tenant_id": tenant,
        "bot_id": bot_id,
        "client_order_id": order_id,
        "amount": amount,
        "created_ns": now_ns,
        "released_ns": None,
    }
