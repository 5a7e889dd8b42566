"""Helpers for the simulated-exchange tests: instruments, orders, candles."""

from __future__ import annotations

import itertools
from decimal import Decimal

from aegis.model.enums import MarketKind, OrderSide, OrderType, PositionSide, TimeInForce
from aegis.model.events import OrderUpdate
from aegis.model.instrument import Instrument
from aegis.model.order import Order
from aegis.venues.sim import FillModel, SimulatedExchange

SYMBOL = "BTC/USDT:USDT"
MINUTE_MS = 60_000
T0_MS = 1_700_000_000_000 - 1_700_000_000_000 % MINUTE_MS


def make_instrument(**overrides: object) -> Instrument:
    fields: dict[str, object] = {
        "symbol": SYMBOL,
        "base": "BTC",
        "quote": "USDT",
        "kind": MarketKind.LINEAR_PERPETUAL,
        "tick_size": Decimal("0.1"),
        "step_size": Decimal("0.001"),
        "min_qty": Decimal("0.001"),
        "maker_fee_rate": Decimal("0.0002"),
        "taker_fee_rate": Decimal("0.0005"),
    }
    fields.update(overrides)
    return Instrument(**fields)  # type: ignore[arg-type]


_ids = itertools.count(1)


def make_order(
    side: OrderSide = OrderSide.BUY,
    order_type: OrderType = OrderType.MARKET,
    quantity: str = "1",
    *,
    price: str | None = None,
    stop_price: str | None = None,
    time_in_force: TimeInForce = TimeInForce.GTC,
    reduce_only: bool = False,
    position_side: PositionSide | None = None,
    symbol: str = SYMBOL,
    client_order_id: str | None = None,
) -> Order:
    return Order(
        client_order_id=client_order_id or f"test-{next(_ids)}",
        bot_id="test",
        symbol=symbol,
        side=side,
        type=order_type,
        quantity=Decimal(quantity),
        price=None if price is None else Decimal(price),
        stop_price=None if stop_price is None else Decimal(stop_price),
        time_in_force=time_in_force,
        reduce_only=reduce_only,
        position_side=position_side,
    )


def candle_ns(index: int) -> int:
    """Open time in ns of the index-th one-minute candle after T0."""
    return (T0_MS + index * MINUTE_MS) * 1_000_000


def feed(
    exchange: SimulatedExchange,
    index: int,
    open_: float,
    high: float,
    low: float,
    close: float,
    volume: float = 1_000.0,
    symbol: str = SYMBOL,
) -> list[OrderUpdate]:
    return exchange.on_candle(symbol, T0_MS + index * MINUTE_MS, open_, high, low, close, volume)


def make_exchange(model: FillModel | None = None, **instrument: object) -> SimulatedExchange:
    inst = make_instrument(**instrument)
    return SimulatedExchange({inst.symbol: inst}, model or FillModel())
