"""The model floor: the least the backtester can spend on its orders, measured on this machine.

BT1 makes a backtest run the live order code, and PR1 keeps quantities and prices Decimal.
Whatever else the engine does, each of its orders is at least: one ``Order`` built, three
state-machine transitions (submit, accept, fill) each carrying an ``OrderUpdate``, one
``Fill`` and one ``Portfolio.apply_fill``. This module times exactly that, with the real
``aegis.model`` classes and nothing else (no strategy, risk, sizing, matching or result), for
as many orders as the benchmark run sends. ``candles / floor_seconds`` is then a ceiling on the
engine's throughput here: the engine cannot beat it without changing those objects.
"""

from __future__ import annotations

import gc
import time
from decimal import Decimal

from aegis.model.enums import LiquidityRole, OrderSide, OrderType, PositionMode
from aegis.model.events import Fill, OrderEventKind, OrderUpdate
from aegis.model.instrument import Instrument
from aegis.model.order import Order
from aegis.model.portfolio import Portfolio

_SYMBOL = "BTC/USDT"
_QUANTITY = Decimal("0.001")
_PRICE = Decimal("30000.50")
_FEE = Decimal("0.0300005")


def lifecycles_seconds(orders: int) -> float:
    """Seconds for ``orders`` order lifecycles through the model objects (gc off, as the engine)."""
    instrument = Instrument.permissive(_SYMBOL)
    portfolio = Portfolio({instrument.quote: Decimal(100_000)}, PositionMode.ONE_WAY)
    buy, sell, market, taker = OrderSide.BUY, OrderSide.SELL, OrderType.MARKET, LiquidityRole.TAKER
    submit, accept, fill_event = OrderEventKind.SUBMIT, OrderEventKind.ACCEPT, OrderEventKind.FILL
    collecting = gc.isenabled()
    gc.disable()
    try:
        started = time.perf_counter()
        for index in range(orders):
            side = sell if index & 1 else buy
            client_order_id = f"floor-{index}"
            order = Order(
                client_order_id=client_order_id, bot_id="floor", symbol=_SYMBOL, side=side,
                type=market, quantity=_QUANTITY, created_ns=index,
            )  # fmt: skip
            order = order.apply(OrderUpdate(client_order_id, submit, index))
            order = order.apply(OrderUpdate(client_order_id, accept, index, venue_order_id="1"))
            fill = Fill(
                client_order_id, _SYMBOL, side, _PRICE, _QUANTITY, _FEE, instrument.quote, taker,
                index, str(index),
            )  # fmt: skip
            order.apply(OrderUpdate(client_order_id, fill_event, index, fill=fill))
            portfolio.apply_fill(fill, instrument)
        return time.perf_counter() - started
    finally:
        if collecting:
            gc.enable()


def floor_seconds(orders: int, repeat: int = 3) -> float:
    """Best of ``repeat`` runs of :func:`lifecycles_seconds`."""
    return min(lifecycles_seconds(orders) for _ in range(repeat))
