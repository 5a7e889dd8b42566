"""The order manager: plans, validation, deterministic ids, state machine and portfolio."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aegis.execution import OrderManager
from aegis.model.enums import (
    LiquidityRole,
    MarketKind,
    OrderSide,
    OrderStatus,
    PositionMode,
    PositionSide,
)
from aegis.model.errors import IllegalTransition, OrderRejected
from aegis.model.events import Fill, OrderEventKind, OrderUpdate
from aegis.model.ids import client_order_id
from aegis.model.instrument import Instrument
from aegis.model.order import Order
from aegis.model.portfolio import Portfolio
from aegis.model.signals import Action, Decision

SYMBOL = "BTC/USDT"


def _manager(**kwargs: object) -> OrderManager:
    instrument = Instrument(
        symbol=SYMBOL, base="BTC", quote="USDT", tick_size=Decimal("0.01"),
        step_size=Decimal("0.001"), min_qty=Decimal("0.001"), min_notional=Decimal("5"),
    )  # fmt: skip
    portfolio = Portfolio({"USDT": Decimal(1000)})
    return OrderManager("bot1", {SYMBOL: instrument}, portfolio, **kwargs)  # type: ignore[arg-type]


def _decision(action: Action, ts_ms: int = 0) -> Decision:
    return Decision(SYMBOL, ts_ms, action, 1.0, "because", "test")


def _fill(order: Order, price: str, fee: str = "0.01") -> OrderUpdate:
    fill = Fill(
        order.client_order_id, SYMBOL, order.side, Decimal(price), order.quantity, Decimal(fee),
        "USDT", LiquidityRole.TAKER, 5, "t1",
    )  # fmt: skip
    return OrderUpdate(order.client_order_id, OrderEventKind.FILL, 5, fill)


def _enter(manager: OrderManager, quantity: str = "0.01") -> Order:
    plan = manager.plan(_decision(Action.ENTER_LONG))
    assert plan is not None
    order = manager.submit(manager.create(plan, Decimal(quantity), 1), 1)
    manager.apply(OrderUpdate(order.client_order_id, OrderEventKind.ACCEPT, 2))
    return manager.apply(_fill(order, "100"))


def test_exit_when_flat_is_ignored_with_a_thought() -> None:
    manager = _manager()
    assert manager.plan(_decision(Action.EXIT_LONG, 7)) is None
    (thought,) = manager.thoughts
    assert thought.ts_ms == 7
    assert "ignored" in thought.thought
    assert "no long position" in thought.thought
    assert thought.metadata["outcome"] == "ignored"


def test_entry_when_in_position_is_ignored() -> None:
    manager = _manager()
    _enter(manager)
    assert manager.plan(_decision(Action.ENTER_LONG)) is None
    assert "already in position" in manager.thoughts[-1].thought


def test_entry_while_an_entry_is_open_is_ignored() -> None:
    manager = _manager()
    plan = manager.plan(_decision(Action.ENTER_LONG))
    assert plan is not None
    manager.submit(manager.create(plan, Decimal("0.01"), 1), 1)
    assert manager.plan(_decision(Action.ENTER_LONG)) is None
    assert "still open" in manager.thoughts[-1].thought


def test_short_on_spot_is_rejected() -> None:
    manager = _manager()
    assert manager.plan(_decision(Action.ENTER_SHORT)) is None
    assert "rejected" in manager.thoughts[-1].thought


def test_order_below_the_filters_is_rejected_before_it_exists() -> None:
    manager = _manager()
    plan = manager.plan(_decision(Action.ENTER_LONG))
    assert plan is not None
    with pytest.raises(OrderRejected, match=r"quantity 0E-\d+|quantity 0\.000"):
        manager.create(plan, Decimal("0.0005"), 1)
    assert manager.orders == {}
    assert manager.next_sequence == 1  # a rejected order does not burn a sequence number


def test_fill_moves_portfolio_and_exit_closes_the_position() -> None:
    manager = _manager()
    filled = _enter(manager)
    assert filled.status is OrderStatus.FILLED
    assert manager.net_quantity(SYMBOL) == Decimal("0.01")
    assert manager.portfolio.cash["USDT"] == Decimal(1000) - Decimal("1.00") - Decimal("0.01")
    assert not manager.has_open_orders()
    plan = manager.plan(_decision(Action.EXIT_LONG))
    assert plan is not None
    assert plan.side is OrderSide.SELL
    assert plan.exit_quantity == Decimal("0.01")
    exit_order = manager.submit(manager.create(plan, plan.exit_quantity, 10), 10)
    manager.apply(_fill(exit_order, "110"))
    assert manager.net_quantity(SYMBOL) == 0
    assert manager.portfolio.equity({SYMBOL: Decimal(1)}) == Decimal("1000.08")


def test_client_ids_are_deterministic_and_dense() -> None:
    first, second = _manager(), _manager(next_sequence=1)
    for manager in (first, second):
        _enter(manager)
    assert list(first.orders) == list(second.orders) == [client_order_id("bot1", 1)]
    restarted = _manager(next_sequence=42)
    order = _enter(restarted)
    assert order.client_order_id == client_order_id("bot1", 42)


def test_intent_writer_sees_the_order_before_it_is_submitted() -> None:
    seen: list[OrderStatus] = []
    manager = _manager(intent_writer=lambda order: seen.append(order.status))
    _enter(manager)
    assert seen == [OrderStatus.NEW]


def test_illegal_transition_raises() -> None:
    manager = _manager()
    order = _enter(manager)
    with pytest.raises(IllegalTransition):
        manager.apply(OrderUpdate(order.client_order_id, OrderEventKind.ACCEPT, 9))


def test_update_for_unknown_order_is_an_error() -> None:
    with pytest.raises(OrderRejected, match="nope"):
        _manager().apply(OrderUpdate("nope", OrderEventKind.ACCEPT, 1))


def test_without_history_a_filled_order_leaves_the_book_but_its_fill_is_counted() -> None:
    manager = _manager(retain_history=False)
    filled = _enter(manager)
    assert filled.status is OrderStatus.FILLED
    assert filled.client_order_id not in manager.orders
    assert manager.fill_counts == {"entry": 1}
    assert manager.net_quantity(SYMBOL) == Decimal("0.01")
    assert not manager.has_open_orders()


def test_with_history_a_filled_order_stays_in_the_book() -> None:
    manager = _manager()
    filled = _enter(manager)
    assert manager.orders[filled.client_order_id] == filled
    assert manager.fill_counts == {"entry": 1}


PERP = "BTC/USDT:USDT"


def _perp_manager(mode: PositionMode) -> OrderManager:
    instrument = Instrument(
        symbol=PERP, base="BTC", quote="USDT", kind=MarketKind.LINEAR_PERPETUAL,
        tick_size=Decimal("0.1"), step_size=Decimal("0.001"), min_qty=Decimal("0.001"),
    )  # fmt: skip
    return OrderManager("bot1", {PERP: instrument}, Portfolio({"USDT": Decimal(1000)}, mode))


def _perp_round_trip(manager: OrderManager) -> tuple[Order, Order]:
    """Enter long, fill, then exit: return the entry and the exit order."""
    plan = manager.plan(Decision(PERP, 0, Action.ENTER_LONG, 1.0, "because", "test"))
    assert plan is not None
    entry = manager.submit(manager.create(plan, Decimal("0.01"), 1), 1)
    manager.apply(
        OrderUpdate(entry.client_order_id, OrderEventKind.FILL, 5, Fill(
            entry.client_order_id, PERP, OrderSide.BUY, Decimal(100), Decimal("0.01"),
            Decimal(0), "USDT", LiquidityRole.TAKER, 5, "t1", entry.position_side,
        ))
    )  # fmt: skip
    exit_plan = manager.plan(Decision(PERP, 1, Action.EXIT_LONG, 1.0, "because", "test"))
    assert exit_plan is not None
    assert exit_plan.exit_quantity is not None
    exit_order = manager.create(exit_plan, exit_plan.exit_quantity, 10)
    return entry, exit_order


def test_one_way_perpetual_orders_carry_no_position_side() -> None:
    # A one-way account refuses a position side (Binance -4061); the side follows the net.
    entry, exit_order = _perp_round_trip(_perp_manager(PositionMode.ONE_WAY))
    assert entry.position_side is None
    assert exit_order.position_side is None
    assert exit_order.reduce_only


def test_hedge_mode_perpetual_orders_name_their_leg() -> None:
    entry, exit_order = _perp_round_trip(_perp_manager(PositionMode.HEDGE))
    assert entry.position_side is PositionSide.LONG
    assert exit_order.position_side is PositionSide.LONG
    assert exit_order.side is OrderSide.SELL


def test_open_orders_show_the_current_state_not_the_submitted_one() -> None:
    manager = _manager()
    plan = manager.plan(_decision(Action.ENTER_LONG))
    assert plan is not None
    order = manager.submit(manager.create(plan, Decimal("0.01"), 1), 1)
    manager.apply(OrderUpdate(order.client_order_id, OrderEventKind.ACCEPT, 2))
    [held] = manager.open_orders
    assert held.status is OrderStatus.ACCEPTED
    assert held == manager.orders[order.client_order_id]
