"""Orders, algo orders and trades as Binance keeps them, and their JSON shapes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aegis.venues.emulator.markets import MarketKind

ZERO = Decimal(0)
OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})


def fmt(value: Decimal | None) -> str:
    """Binance-style decimal string: plain notation, no exponent ("0" for None)."""
    if value is None or value == 0:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


@dataclass(slots=True)
class OrderRecord:
    """One regular order (``/fapi/v1/order`` or ``/api/v3/order``)."""

    kind: MarketKind
    order_id: int
    client_order_id: str
    symbol_id: str
    side: str  # BUY / SELL
    type: str  # MARKET, LIMIT, STOP_MARKET, TAKE_PROFIT_MARKET, ...
    quantity: Decimal
    price: Decimal
    stop_price: Decimal
    time_in_force: str
    reduce_only: bool
    position_side: str  # BOTH / LONG / SHORT
    time_ms: int
    status: str = "NEW"
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    update_time_ms: int = 0
    close_position: bool = False
    # Matching key inside the simulated exchange (unique per account, unlike client ids).
    sim_id: str = ""
    # Candles left before the order reaches matching (the fill_delay fault).
    held_candles: int = 0

    @property
    def is_open(self) -> bool:
        """True while the order can still fill."""
        return self.status in OPEN_STATUSES

    @property
    def average_price(self) -> Decimal:
        """Average fill price (0 before the first fill)."""
        return ZERO if self.executed_qty == 0 else self.cum_quote / self.executed_qty

    def to_json(self) -> dict[str, Any]:
        """The REST shape of this order for its market."""
        if self.kind == "spot":
            return self._spot_json()
        return {
            "orderId": self.order_id,
            "symbol": self.symbol_id,
            "status": self.status,
            "clientOrderId": self.client_order_id,
            "price": fmt(self.price),
            "avgPrice": fmt(self.average_price),
            "origQty": fmt(self.quantity),
            "executedQty": fmt(self.executed_qty),
            "cumQty": fmt(self.executed_qty),
            "cumQuote": fmt(self.cum_quote),
            "timeInForce": self.time_in_force,
            "type": self.type,
            "reduceOnly": self.reduce_only,
            "closePosition": self.close_position,
            "side": self.side,
            "positionSide": self.position_side,
            "stopPrice": fmt(self.stop_price),
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": self.type,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "goodTillDate": 0,
            "time": self.time_ms,
            "updateTime": self.update_time_ms or self.time_ms,
        }

    def _spot_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol_id,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "price": fmt(self.price),
            "origQty": fmt(self.quantity),
            "executedQty": fmt(self.executed_qty),
            "cummulativeQuoteQty": fmt(self.cum_quote),
            "status": self.status,
            "timeInForce": self.time_in_force,
            "type": self.type,
            "side": self.side,
            "stopPrice": fmt(self.stop_price),
            "icebergQty": "0",
            "time": self.time_ms,
            "updateTime": self.update_time_ms or self.time_ms,
            "isWorking": True,
            "workingTime": self.time_ms,
            "origQuoteOrderQty": "0",
            "selfTradePreventionMode": "NONE",
        }


@dataclass(slots=True)
class AlgoRecord:
    """One conditional order of ``/fapi/v1/algoOrder`` (stop-market, take-profit...)."""

    algo_id: int
    client_algo_id: str
    symbol_id: str
    side: str
    order_type: str  # STOP_MARKET, TAKE_PROFIT_MARKET, STOP, TAKE_PROFIT
    quantity: Decimal
    trigger_price: Decimal
    price: Decimal
    reduce_only: bool
    close_position: bool
    position_side: str
    time_in_force: str
    create_time_ms: int
    algo_status: str = "NEW"  # NEW, TRIGGERED, FINISHED, CANCELED, EXPIRED, REJECTED
    update_time_ms: int = 0
    trigger_time_ms: int = 0
    actual_order_id: int | None = None
    sim_id: str = ""

    @property
    def is_open(self) -> bool:
        """True until the order triggers or is cancelled."""
        return self.algo_status == "NEW"

    def to_json(self) -> dict[str, Any]:
        """The REST shape (``algoOrder``, ``openAlgoOrders``, ``allAlgoOrders``)."""
        return {
            "algoId": self.algo_id,
            "clientAlgoId": self.client_algo_id,
            "algoType": "CONDITIONAL",
            "orderType": self.order_type,
            "symbol": self.symbol_id,
            "side": self.side,
            "positionSide": self.position_side,
            "timeInForce": self.time_in_force,
            "quantity": fmt(self.quantity),
            "algoStatus": self.algo_status,
            "actualOrderId": "" if self.actual_order_id is None else str(self.actual_order_id),
            "triggerPrice": fmt(self.trigger_price),
            "price": fmt(self.price),
            "icebergQuantity": None,
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "workingType": "CONTRACT_PRICE",
            "priceMatch": "NONE",
            "closePosition": self.close_position,
            "priceProtect": False,
            "reduceOnly": self.reduce_only,
            "createTime": self.create_time_ms,
            "updateTime": self.update_time_ms or self.create_time_ms,
            "triggerTime": self.trigger_time_ms,
            "goodTillDate": 0,
        }

    def to_event(self, event_time_ms: int) -> dict[str, Any]:
        """The ``ALGO_UPDATE`` user-stream event."""
        return {
            "e": "ALGO_UPDATE",
            "T": event_time_ms,
            "E": event_time_ms,
            "o": {
                "caid": self.client_algo_id,
                "aid": self.algo_id,
                "at": "CONDITIONAL",
                "o": self.order_type,
                "s": self.symbol_id,
                "S": self.side,
                "ps": self.position_side,
                "f": self.time_in_force,
                "q": fmt(self.quantity),
                "X": self.algo_status,
                "ai": "" if self.actual_order_id is None else str(self.actual_order_id),
                "tp": fmt(self.trigger_price),
                "p": fmt(self.price),
                "wt": "CONTRACT_PRICE",
                "pm": "NONE",
                "cp": self.close_position,
                "pP": False,
                "R": self.reduce_only,
                "tt": self.trigger_time_ms,
                "gtd": 0,
            },
        }


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """One fill of the account (``userTrades`` / ``myTrades``)."""

    kind: MarketKind
    trade_id: int
    order_id: int
    symbol_id: str
    side: str
    price: Decimal
    quantity: Decimal
    commission: Decimal
    commission_asset: str
    realized_pnl: Decimal
    is_maker: bool
    position_side: str
    time_ms: int

    def to_json(self) -> dict[str, Any]:
        """The REST shape of this fill for its market."""
        if self.kind == "spot":
            return {
                "symbol": self.symbol_id,
                "id": self.trade_id,
                "orderId": self.order_id,
                "orderListId": -1,
                "price": fmt(self.price),
                "qty": fmt(self.quantity),
                "quoteQty": fmt(self.price * self.quantity),
                "commission": fmt(self.commission),
                "commissionAsset": self.commission_asset,
                "time": self.time_ms,
                "isBuyer": self.side == "BUY",
                "isMaker": self.is_maker,
                "isBestMatch": True,
            }
        return {
            "buyer": self.side == "BUY",
            "commission": fmt(self.commission),
            "commissionAsset": self.commission_asset,
            "id": self.trade_id,
            "maker": self.is_maker,
            "orderId": self.order_id,
            "price": fmt(self.price),
            "qty": fmt(self.quantity),
            "quoteQty": fmt(self.price * self.quantity),
            "realizedPnl": fmt(self.realized_pnl),
            "side": self.side,
            "positionSide": self.position_side,
            "symbol": self.symbol_id,
            "time": self.time_ms,
        }


def order_trade_update(
    order: OrderRecord, execution: str, event_time_ms: int, trade: TradeRecord | None
) -> dict[str, Any]:
    """The ``ORDER_TRADE_UPDATE`` user-stream event for ``order`` after ``execution``."""
    return {
        "e": "ORDER_TRADE_UPDATE",
        "E": event_time_ms,
        "T": event_time_ms,
        "o": {
            "s": order.symbol_id,
            "c": order.client_order_id,
            "S": order.side,
            "o": order.type,
            "f": order.time_in_force,
            "q": fmt(order.quantity),
            "p": fmt(order.price),
            "ap": fmt(order.average_price),
            "sp": fmt(order.stop_price),
            "x": execution,
            "X": order.status,
            "i": order.order_id,
            "l": fmt(trade.quantity if trade else None),
            "z": fmt(order.executed_qty),
            "L": fmt(trade.price if trade else None),
            "N": trade.commission_asset if trade else "USDT",
            "n": fmt(trade.commission if trade else None),
            "T": event_time_ms,
            "t": trade.trade_id if trade else 0,
            "b": "0",
            "a": "0",
            "m": trade.is_maker if trade else False,
            "R": order.reduce_only,
            "wt": "CONTRACT_PRICE",
            "ot": order.type,
            "ps": order.position_side,
            "cp": order.close_position,
            "rp": fmt(trade.realized_pnl if trade else None),
            "pP": False,
            "si": 0,
            "ss": 0,
            "V": "EXPIRE_MAKER",
            "pm": "NONE",
            "gtd": 0,
        },
    }
