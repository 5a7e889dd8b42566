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

import argparse
import gc
import sys
import time
from decimal import Decimal
from typing import Any

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
    return _lifecycles(orders, _QUANTITY, _PRICE, _FEE, portfolio, instrument)


def order_objects_seconds(orders: int, quantity: Any, price: Any, fee: Any) -> float:
    """Seconds for the order, update and fill objects alone, with these values (no portfolio).

    Given integers (ticks) instead of Decimals, it measures what integer ticks would save on
    the objects themselves: PR1 allows them, and the model's classes take either unchecked.
    """
    return _lifecycles(orders, quantity, price, fee, None, None)


def _lifecycles(
    orders: int,
    quantity: Any,
    price: Any,
    fee: Any,
    portfolio: Portfolio | None,
    instrument: Instrument | None,
) -> float:
    buy, sell, market, taker = OrderSide.BUY, OrderSide.SELL, OrderType.MARKET, LiquidityRole.TAKER
    submit, accept, fill_event = OrderEventKind.SUBMIT, OrderEventKind.ACCEPT, OrderEventKind.FILL
    quote = _SYMBOL.split("/")[1]
    collecting = gc.isenabled()
    gc.disable()
    try:
        started = time.perf_counter()
        for index in range(orders):
            side = sell if index & 1 else buy
            client_order_id = f"floor-{index}"
            order = Order(
                client_order_id=client_order_id, bot_id="floor", symbol=_SYMBOL, side=side,
                type=market, quantity=quantity, created_ns=index,
            )  # fmt: skip
            order = order.apply(OrderUpdate(client_order_id, submit, index))
            order = order.apply(OrderUpdate(client_order_id, accept, index, venue_order_id="1"))
            fill = Fill(
                client_order_id, _SYMBOL, side, price, quantity, fee, quote, taker, index,
                str(index),
            )  # fmt: skip
            order.apply(OrderUpdate(client_order_id, fill_event, index, fill=fill))
            if portfolio is not None and instrument is not None:
                portfolio.apply_fill(fill, instrument)
        return time.perf_counter() - started
    finally:
        if collecting:
            gc.enable()


def floor_seconds(orders: int, repeat: int = 3) -> float:
    """Best of ``repeat`` runs of :func:`lifecycles_seconds`."""
    return min(lifecycles_seconds(orders) for _ in range(repeat))


def main(argv: list[str] | None = None) -> int:
    """Print the floor and what integer ticks would change on the order objects."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=36_016, help="the bench run's order count")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    orders, repeat = args.orders, args.repeat
    floor = floor_seconds(orders, repeat)
    decimal = min(order_objects_seconds(orders, _QUANTITY, _PRICE, _FEE) for _ in range(repeat))
    # the same values as integer ticks: 1e-3 lots, 1e-2 quote, 1e-7 quote
    ticks = min(order_objects_seconds(orders, 1, 3_000_050, 300_005) for _ in range(repeat))
    print(f"model floor, {orders:,} lifecycles with the portfolio: {floor:.4f} s")
    print(f"order, update and fill objects alone, Decimal values:  {decimal:.4f} s")
    print(f"order, update and fill objects alone, integer ticks:   {ticks:.4f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
