"""The order manager refuses an order past the venue's open-order caps (PR2), before its intent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aegis.execution import OrderManager
from aegis.execution.order_manager import OrderPlan
from aegis.model import (
    Instrument,
    OpenOrderLimits,
    Order,
    OrderRejected,
    OrderSide,
    OrderStatus,
    OrderType,
    Portfolio,
    RejectReason,
)
from aegis.model.enums import MarketKind
from aegis.model.signals import Action, Decision

SYMBOL = "BTC/USDT:USDT"
OTHER = "ETH/USDT:USDT"


def _instrument(symbol: str, limits: OpenOrderLimits) -> Instrument:
    return Instrument(
        symbol=symbol, base=symbol[:3], quote="USDT", kind=MarketKind.LINEAR_PERPETUAL,
        tick_size=Decimal("0.1"), step_size=Decimal("0.001"), open_order_limits=limits,
    )  # fmt: skip


def _manager(limits: OpenOrderLimits) -> tuple[OrderManager, list[str]]:
    written: list[str] = []
    instruments = {s: _instrument(s, limits) for s in (SYMBOL, OTHER)}
    manager = OrderManager(
        "bot1", instruments, Portfolio({"USDT": Decimal(10**6)}),
        intent_writer=lambda order: written.append(order.client_order_id),
    )  # fmt: skip
    return manager, written


def _place(manager: OrderManager, symbol: str) -> None:
    decision = Decision(symbol, 0, Action.ENTER_LONG, 1.0, "because", "test")
    plan = OrderPlan(decision, OrderSide.BUY, "entry", None, None, False)
    order = manager.create(plan, Decimal("0.01"), 1, order_type=OrderType.LIMIT,
                           price=Decimal(50000))  # fmt: skip
    manager.submit(order, 1)


def _open_stops(manager: OrderManager, count: int) -> None:
    """Conditional orders the manager did not create (restored from the store at a restart)."""
    stops = [
        Order(
            client_order_id=f"stop-{n}",
            bot_id="bot1",
            symbol=SYMBOL,
            side=OrderSide.SELL,
            type=OrderType.STOP_MARKET,
            quantity=Decimal("0.01"),
            stop_price=Decimal(40000),
            status=OrderStatus.ACCEPTED,
        )
        for n in range(count)
    ]
    manager.restore(stops, [])


def test_the_order_past_max_num_orders_is_refused_before_its_intent() -> None:
    manager, written = _manager(OpenOrderLimits(max_orders=3, max_conditional=2))
    for _ in range(3):
        _place(manager, SYMBOL)
    with pytest.raises(OrderRejected) as refused:
        _place(manager, SYMBOL)
    assert refused.value.reason is RejectReason.TOO_MANY_OPEN_ORDERS
    assert str(refused.value) == (
        f"3 orders already open on {SYMBOL}: the venue allows 3 (MAX_NUM_ORDERS)"
    )
    assert len(written) == 3  # no intent for the refused order
    assert manager.next_sequence == 4
    _place(manager, OTHER)  # the cap is per symbol


def test_a_closed_order_frees_its_place() -> None:
    from aegis.model.events import OrderEventKind, OrderUpdate

    manager, _ = _manager(OpenOrderLimits(max_orders=1))
    _place(manager, SYMBOL)
    [order] = manager.open_orders
    manager.apply(OrderUpdate(order.client_order_id, OrderEventKind.CANCEL, 2))
    _place(manager, SYMBOL)
    assert len(manager.open_orders) == 1


def test_open_conditional_orders_count_against_max_num_orders_on_spot_only() -> None:
    futures, _ = _manager(OpenOrderLimits(max_orders=2, max_conditional=2))
    _open_stops(futures, 2)
    _place(futures, SYMBOL)  # USD-M: conditional orders live in the algo service
    _place(futures, SYMBOL)
    spot, _ = _manager(
        OpenOrderLimits(max_orders=2, max_conditional=2, conditional_in_max_orders=True)
    )
    _open_stops(spot, 2)
    with pytest.raises(OrderRejected) as refused:
        _place(spot, SYMBOL)
    assert refused.value.reason is RejectReason.TOO_MANY_OPEN_ORDERS
