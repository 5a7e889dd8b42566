"""Pure domain model (standard library only): instruments, orders, fills, positions, ids."""

from aegis.model.candle import Candle
from aegis.model.enums import (
    PENDING_STATUSES,
    TERMINAL_STATUSES,
    LiquidityRole,
    MarketKind,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionMode,
    PositionSide,
    RejectReason,
    TimeInForce,
)
from aegis.model.errors import (
    AegisError,
    AuthenticationError,
    ConfigError,
    DataError,
    DuplicateClientOrderId,
    IllegalTransition,
    InsufficientFunds,
    OrderNotFound,
    OrderRejected,
    RateLimited,
    StaleDataError,
    TransientVenueError,
    VenueError,
)
from aegis.model.events import FILL_EVENTS, Fill, FundingPayment, OrderEventKind, OrderUpdate
from aegis.model.ids import (
    CLIENT_ORDER_ID_PATTERN,
    ClientOrderIdParts,
    bot_key,
    client_order_id,
    parse_client_order_id,
)
from aegis.model.instrument import Instrument, clean_decimal
from aegis.model.limits import CONDITIONAL_TYPES, OpenOrderLimits, PriceBand
from aegis.model.order import TRANSITIONS, Order
from aegis.model.portfolio import Portfolio
from aegis.model.position import Position
from aegis.model.signals import Action, Decision, JsonValue, sanitize_metadata

__all__ = [
    "CLIENT_ORDER_ID_PATTERN",
    "CONDITIONAL_TYPES",
    "FILL_EVENTS",
    "PENDING_STATUSES",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "Action",
    "AegisError",
    "AuthenticationError",
    "Candle",
    "ClientOrderIdParts",
    "ConfigError",
    "DataError",
    "Decision",
    "DuplicateClientOrderId",
    "Fill",
    "FundingPayment",
    "IllegalTransition",
    "Instrument",
    "InsufficientFunds",
    "JsonValue",
    "LiquidityRole",
    "MarketKind",
    "OpenOrderLimits",
    "Order",
    "OrderEventKind",
    "OrderNotFound",
    "OrderRejected",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "OrderUpdate",
    "Portfolio",
    "Position",
    "PositionMode",
    "PositionSide",
    "PriceBand",
    "RateLimited",
    "RejectReason",
    "StaleDataError",
    "TimeInForce",
    "TransientVenueError",
    "VenueError",
    "bot_key",
    "clean_decimal",
    "client_order_id",
    "parse_client_order_id",
    "sanitize_metadata",
]
