"""RK5: the kill switch plans cancels and exact reduce-only flattens, and latches its scope."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from aegis.model import (
    OrderSide,
    OrderStatus,
    OrderType,
    PositionMode,
    PositionSide,
)
from aegis.model.order import Order
from aegis.model.position import Position
from aegis.risk.kill_switch import (
    BotBook,
    CancelInstruction,
    FlattenInstruction,
    KillScope,
    KillSwitch,
)

T0 = 1_700_000_000_000_000_000
SYMBOL = "BTC/USDT:USDT"


def _order(client_id: str, status: OrderStatus = OrderStatus.ACCEPTED) -> Order:
    return Order(
        client_order_id=client_id, bot_id="bot1", symbol=SYMBOL, side=OrderSide.BUY,
        type=OrderType.LIMIT, quantity=Decimal("0.5"), price=Decimal(60_000), status=status,
    )  # fmt: skip


def _leg(side: PositionSide, quantity: str, symbol: str = SYMBOL) -> Position:
    return Position(symbol, side, Decimal(quantity), Decimal(60_000))


def test_hedge_mode_flattens_long_and_short_residuals_separately() -> None:
    book = BotBook(
        "t1", "bot1",
        open_orders=[_order("a1"), _order("a2", OrderStatus.FILLED)],
        positions=[_leg(PositionSide.LONG, "0.123456789"), _leg(PositionSide.SHORT, "0.05")],
        position_mode=PositionMode.HEDGE,
    )  # fmt: skip
    plan = KillSwitch().engage(KillScope.of_bot("t1", "bot1"), [book], "alice", T0, "test")
    assert plan.cancels == (CancelInstruction("t1", "bot1", "a1", SYMBOL),)
    assert plan.flattens == (
        FlattenInstruction("t1", "bot1", SYMBOL, OrderSide.SELL, Decimal("0.123456789"),
                           PositionSide.LONG),
        FlattenInstruction("t1", "bot1", SYMBOL, OrderSide.BUY, Decimal("0.05"),
                           PositionSide.SHORT),
    )  # fmt: skip
    assert all(f.reduce_only and f.order_type is OrderType.MARKET for f in plan.flattens)


def test_one_way_mode_flattens_the_net_leg_without_position_side() -> None:
    book = BotBook("t1", "bot1", positions=[_leg(PositionSide.SHORT, "2")])
    plan = KillSwitch().engage(KillScope.of_tenant("t1"), [book], "alice", T0, "test")
    assert plan.flattens == (
        FlattenInstruction("t1", "bot1", SYMBOL, OrderSide.BUY, Decimal(2), None),
    )


def test_scope_selects_the_books() -> None:
    books = [
        BotBook("t1", "bot1", positions=[_leg(PositionSide.LONG, "1")]),
        BotBook("t1", "bot2", positions=[_leg(PositionSide.LONG, "2")]),
        BotBook("t2", "bot1", positions=[_leg(PositionSide.LONG, "3")]),
    ]
    switch = KillSwitch()

    def quantities(scope: KillScope) -> list[Decimal]:
        return [f.quantity for f in switch.engage(scope, books, "ops", T0, "x").flattens]

    assert quantities(KillScope.of_bot("t1", "bot2")) == [Decimal(2)]
    assert quantities(KillScope.of_tenant("t1")) == [Decimal(1), Decimal(2)]
    assert quantities(KillScope.everything()) == [Decimal(1), Decimal(2), Decimal(3)]


def test_engaging_latches_until_that_scope_is_rearmed() -> None:
    switch = KillSwitch()
    switch.engage(KillScope.of_tenant("t1"), [], "alice", T0, "runaway")
    reason = switch.entry_block_reason("t1", "bot9")
    assert reason is not None
    assert "tenant:t1 by alice" in reason
    assert switch.entry_block_reason("t2", "bot9") is None
    # re-arming a bot inside a latched tenant does not lift the tenant latch
    assert switch.rearm(KillScope.of_bot("t1", "bot9"), "alice", T0 + 1) is None
    assert switch.entry_block_reason("t1", "bot9") is not None
    event = switch.rearm(KillScope.of_tenant("t1"), "bob", T0 + 2, "fixed")
    assert event is not None
    assert (event.action, event.actor) == ("rearm", "bob")
    assert switch.entry_block_reason("t1", "bot9") is None


def test_global_kill_blocks_everyone_and_survives_a_snapshot() -> None:
    switch = KillSwitch()
    plan = switch.engage(KillScope.everything(), [], "root", T0, "exchange incident")
    assert plan.event.to_json()["scope"] == {"kind": "global", "tenant": None, "bot_id": None}
    restored = KillSwitch()
    restored.restore(json.loads(json.dumps(switch.state())))
    assert restored.entry_block_reason("any", "bot") is not None
    assert restored.latched() == [KillScope.everything()]


def test_kill_needs_an_actor_and_a_valid_scope() -> None:
    with pytest.raises(ValueError, match="needs an actor"):
        KillSwitch().engage(KillScope.everything(), [], "", T0, "x")
    with pytest.raises(ValueError, match="kill scope bot"):
        KillScope.of_bot("t1", None)  # type: ignore[arg-type]
