"""OR4: exits are locked per position leg, not per symbol."""

from __future__ import annotations

from decimal import Decimal

from aegis.engine.guards import PositionLocks
from aegis.model import OrderEventKind, OrderUpdate
from aegis.model.enums import OrderSide, OrderType, PositionSide, TimeInForce
from aegis.model.order import Order

SYMBOL = "BTC/USDT:USDT"


def _exit(coid: str, side: PositionSide) -> Order:
    return Order(
        client_order_id=coid, bot_id="bot1", symbol=SYMBOL,
        side=OrderSide.SELL if side is PositionSide.LONG else OrderSide.BUY,
        type=OrderType.MARKET, quantity=Decimal(1), price=None, stop_price=None,
        time_in_force=TimeInForce.GTC, reduce_only=True, position_side=side,
        created_ns=1, tag="exit",
    )  # fmt: skip


def test_second_exit_of_the_same_leg_is_refused_until_the_first_is_final() -> None:
    locks = PositionLocks()
    key = (SYMBOL, PositionSide.LONG)
    assert locks.acquire(key)
    locks.bind(key, "bot1.1")
    assert not locks.acquire(key)  # a strategy exit and a kill flatten cannot both close it
    order = _exit("bot1.1", PositionSide.LONG)
    order = order.apply(OrderUpdate("bot1.1", OrderEventKind.SUBMIT, 2))
    locks.on_order(order)  # still open: the lock holds
    assert locks.is_locked(key)
    locks.on_order(order.apply(OrderUpdate("bot1.1", OrderEventKind.REJECT, 3)))
    assert locks.acquire(key)


def test_the_other_leg_of_the_same_symbol_is_not_blocked() -> None:
    locks = PositionLocks()
    assert locks.acquire((SYMBOL, PositionSide.LONG))
    assert locks.acquire((SYMBOL, PositionSide.SHORT))  # per position, not per symbol


def test_rebind_retakes_the_locks_of_open_exits_after_a_restart() -> None:
    locks = PositionLocks()
    locks.rebind([_exit("bot1.7", PositionSide.SHORT)])
    assert locks.holder((SYMBOL, PositionSide.SHORT)) == "bot1.7"
    assert not locks.acquire((SYMBOL, PositionSide.SHORT))


def test_an_exit_that_was_not_sent_frees_its_leg() -> None:
    locks = PositionLocks()
    key = (SYMBOL, PositionSide.LONG)
    assert locks.acquire(key)
    locks.release(key)
    assert locks.acquire(key)
