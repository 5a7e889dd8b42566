"""Signed order endpoints: place, query, cancel, list (regular and algo orders), trades."""

from __future__ import annotations

import re
from typing import Any

from aegis.venues.emulator import errors
from aegis.venues.emulator.call import Call
from aegis.venues.emulator.engine import OrderRequest
from aegis.venues.emulator.errors import BinanceError
from aegis.venues.emulator.records import AlgoRecord, OrderRecord, TradeRecord

_CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
_FUTURES_TYPES = ("MARKET", "LIMIT")
_ALGO_TYPES = ("STOP_MARKET", "TAKE_PROFIT_MARKET", "STOP", "TAKE_PROFIT")
_SPOT_TYPES = ("MARKET", "LIMIT", "LIMIT_MAKER")


def _client_id(call: Call, name: str, fallback_prefix: str) -> str:
    value = call.optional(name)
    if value is None:
        return f"{fallback_prefix}{call.exchange.candles_published}{len(call.venue.orders)}"
    if not _CLIENT_ID.match(value):
        raise errors.illegal_parameter(name, value)
    return value


def _request(call: Call, *, is_algo: bool) -> OrderRequest:
    spec = call.symbol()
    side = call.text("side").upper()
    if side not in ("BUY", "SELL"):
        raise errors.illegal_parameter("side", side)
    order_type = call.text("type").upper()
    allowed = _ALGO_TYPES if is_algo else _FUTURES_TYPES if call.kind == "usdm" else _SPOT_TYPES
    if order_type not in allowed:
        if call.kind == "usdm" and order_type in _ALGO_TYPES:
            raise BinanceError(
                -4120,
                "Order type not supported for this endpoint. Please use the Algo Order API "
                "endpoints instead.",
            )
        raise errors.invalid_order_type()
    close_position = call.flag("closePosition")
    quantity = call.decimal("quantity")
    position_side = (call.optional("positionSide") or "BOTH").upper()
    if quantity is None and close_position:
        position = call.venue.ledger.position(spec.symbol_id, position_side)  # type: ignore[union-attr]  # usdm only
        quantity = abs(position.amount)
    if quantity is None:
        raise errors.mandatory_parameter("quantity")
    price = call.decimal("price")
    if order_type in ("LIMIT", "LIMIT_MAKER", "STOP", "TAKE_PROFIT") and price is None:
        raise errors.mandatory_parameter("price")
    stop_price = call.decimal("triggerPrice" if is_algo else "stopPrice")
    if is_algo and stop_price is None:
        raise errors.mandatory_parameter("triggerPrice")
    return OrderRequest(
        symbol_id=spec.symbol_id,
        side=side,
        type=order_type,
        quantity=quantity,
        price=price if order_type not in ("MARKET", "STOP_MARKET", "TAKE_PROFIT_MARKET") else None,
        stop_price=stop_price,
        time_in_force=(call.optional("timeInForce") or "GTC").upper(),
        reduce_only=call.flag("reduceOnly"),
        position_side=position_side if call.kind == "usdm" else "BOTH",
        client_id=_client_id(call, "clientAlgoId" if is_algo else "newClientOrderId", "emu-"),
        close_position=close_position,
    )


def place_order(call: Call) -> Any:
    """``POST order``: market or limit (futures and spot)."""
    request = _request(call, is_algo=False)
    record = call.venue.place(request, is_algo=False, hold_candles=call.faults.fill_delay)
    if not isinstance(record, OrderRecord):
        raise TypeError(f"a regular order was expected, got {record!r}")
    body = record.to_json()
    if call.kind == "spot":
        body["transactTime"] = record.time_ms
        body["fills"] = []
    return body


def place_algo_order(call: Call) -> Any:
    """``POST /fapi/v1/algoOrder`` (algoType CONDITIONAL): stop-market, take-profit..."""
    algo_type = call.text("algoType").upper()
    if algo_type != "CONDITIONAL":
        raise errors.illegal_parameter("algoType", algo_type)
    record = call.venue.place(_request(call, is_algo=True), is_algo=True)
    if not isinstance(record, AlgoRecord):
        raise TypeError(f"an algo order was expected, got {record!r}")
    return record.to_json()


def _order(call: Call) -> OrderRecord:
    call.symbol()
    order_id = call.integer("orderId")
    client_id = call.optional("origClientOrderId")
    if order_id is None and client_id is None:
        raise BinanceError(
            -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
        )
    record = call.venue.find_order(order_id, client_id)
    if record.symbol_id != call.text("symbol").upper():
        raise errors.order_does_not_exist()
    return record


def get_order(call: Call) -> Any:
    """``GET order`` by orderId or origClientOrderId."""
    return _order(call).to_json()


def cancel_order(call: Call) -> Any:
    """``DELETE order``; -2011 when unknown or no longer open."""
    try:
        record = _order(call)
    except BinanceError as exc:
        if exc.code == -2013:
            raise errors.unknown_order_cancel() from exc
        raise
    call.venue.cancel(record)
    return record.to_json()


def cancel_all(call: Call) -> Any:
    """``DELETE allOpenOrders``."""
    spec = call.symbol()
    for record in call.venue.open_orders(spec.symbol_id):
        call.venue.cancel(record)
    if call.kind == "usdm":
        return {"code": 200, "msg": "The operation of cancel all open order is done."}
    return []


def open_orders(call: Call) -> Any:
    """``GET openOrders`` (every symbol without ``symbol``)."""
    spec = call.optional_symbol()
    return [o.to_json() for o in call.venue.open_orders(spec.symbol_id if spec else None)]


def _page(records: list[Any], call: Call, id_param: str, id_of: Any, time_of: Any) -> list[Any]:
    start_id = call.integer(id_param)
    start, end = call.integer("startTime"), call.integer("endTime")
    limit = call.limit(500, 1000)
    if start_id is not None:
        records = [r for r in records if id_of(r) >= start_id]
    records = [
        r
        for r in records
        if (start is None or time_of(r) >= start) and (end is None or time_of(r) <= end)
    ]
    # With an id or a start time the page runs forward from it; otherwise the newest come back.
    if start_id is not None or start is not None:
        return records[:limit]
    return records[-limit:]


def all_orders(call: Call) -> Any:
    """``GET allOrders``: paginated by orderId / startTime / endTime / limit."""
    spec = call.symbol()
    records = [o for o in call.venue.orders.values() if o.symbol_id == spec.symbol_id]
    page = _page(records, call, "orderId", lambda r: r.order_id, lambda r: r.time_ms)
    return [o.to_json() for o in page]


def user_trades(call: Call) -> Any:
    """``GET userTrades`` / ``myTrades``: paginated by fromId / startTime / endTime / limit."""
    spec = call.symbol()
    records: list[TradeRecord] = [t for t in call.venue.trades if t.symbol_id == spec.symbol_id]
    order_id = call.integer("orderId")
    if order_id is not None:
        records = [t for t in records if t.order_id == order_id]
    page = _page(records, call, "fromId", lambda r: r.trade_id, lambda r: r.time_ms)
    return [t.to_json() for t in page]


def _algo(call: Call) -> AlgoRecord:
    algo_id = call.integer("algoId")
    client_id = call.optional("clientAlgoId")
    if algo_id is None and client_id is None:
        raise errors.mandatory_parameter("algoId")
    return call.venue.find_algo(algo_id, client_id)


def get_algo_order(call: Call) -> Any:
    """``GET /fapi/v1/algoOrder`` by algoId or clientAlgoId."""
    return _algo(call).to_json()


def cancel_algo_order(call: Call) -> Any:
    """``DELETE /fapi/v1/algoOrder``."""
    try:
        record = _algo(call)
    except BinanceError as exc:
        raise errors.unknown_order_cancel() from exc
    call.venue.cancel(record)
    return {"algoId": record.algo_id, "clientAlgoId": record.client_algo_id, "code": "200",
            "msg": "success"}  # fmt: skip


def open_algo_orders(call: Call) -> Any:
    """``GET /fapi/v1/openAlgoOrders``."""
    spec = call.optional_symbol()
    return [a.to_json() for a in call.venue.open_algos(None if spec is None else spec.symbol_id)]


def all_algo_orders(call: Call) -> Any:
    """``GET /fapi/v1/allAlgoOrders``: paginated by algoId / startTime / endTime / limit."""
    spec = call.symbol()
    records = [a for a in call.venue.algos.values() if a.symbol_id == spec.symbol_id]
    page = _page(records, call, "algoId", lambda r: r.algo_id, lambda r: r.create_time_ms)
    return [a.to_json() for a in page]
