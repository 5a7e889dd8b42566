"""OrderManager.adopt: an order placed outside the bot joins the book once, in its real state."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aegis.execution import OrderManager
from aegis.model.enums import LiquidityRole, OrderSide, OrderStatus, OrderType
from aegis.model.errors import OrderRejected
from aegis.model.events import Fill, OrderEventKind, OrderUpdate
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


def _manual(
    coid: str = "web_1",
    status: OrderStatus = OrderStatus.ACCEPTED,
    quantity: str = "0.02",
    filled: str = "0",
) -> Order:
    return Order(
        client_order_id=coid, bot_id="bot1", symbol=SYMBOL, side=OrderSide.BUY,
        type=OrderType.LIMIT, quantity=Decimal(quantity), price=Decimal(100), stop_price=None,
        status=status, filled_quantity=Decimal(filled),
        average_fill_price=Decimal(100) if Decimal(filled) else None,
        venue_order_id="v1", created_ns=1, updated_ns=2, tag="adopted",
    )  # fmt: skip


def _fill(coid: str, quantity: str, trade_id: str, symbol: str = SYMBOL) -> Fill:
    return Fill(
        coid, symbol, OrderSide.BUY, Decimal(100), Decimal(quantity), Decimal("0.01"), "USDT",
        LiquidityRole.MAKER, 3, trade_id,
    )  # fmt: skip


def test_an_adopted_resting_order_is_open_and_its_fills_move_the_book_once() -> None:
    manager = _manager()
    order = _manual(status=OrderStatus.PARTIALLY_FILLED, filled="0.01")
    manager.adopt(order, [_fill("web_1", "0.01", "t1")])
    assert manager.orders["web_1"] == order
    assert [o.client_order_id for o in manager.open_orders] == ["web_1"]
    assert manager.net_quantity(SYMBOL) == Decimal("0.01")
    position = manager.portfolio.position(SYMBOL)
    assert position is not None
    assert position.quantity == Decimal("0.01")
    assert manager.fill_counts == {"adopted": 1}
    # the symbol is pending as after a restart: the bot does not enter on top of it
    assert manager.plan(Decision(SYMBOL, 0, Action.ENTER_LONG, 1.0, "why", "t")) is None


def test_an_adopted_order_then_follows_the_state_machine() -> None:
    manager = _manager()
    manager.adopt(_manual(status=OrderStatus.PARTIALLY_FILLED, filled="0.01"),
                  [_fill("web_1", "0.01", "t1")])  # fmt: skip
    rest = _fill("web_1", "0.01", "t2")
    after = manager.apply(OrderUpdate("web_1", OrderEventKind.FILL, 4, rest, "v1"))
    assert after.status is OrderStatus.FILLED
    assert manager.open_orders == []
    assert manager.net_quantity(SYMBOL) == Decimal("0.02")


def test_a_filled_order_is_adopted_closed() -> None:
    manager = _manager()
    manager.adopt(_manual(status=OrderStatus.FILLED, filled="0.02"),
                  [_fill("web_1", "0.02", "t1")])  # fmt: skip
    assert manager.open_orders == []
    assert manager.net_quantity(SYMBOL) == Decimal("0.02")
    assert manager.plan(Decision(SYMBOL, 0, Action.EXIT_LONG, 1.0, "why", "t")) is not None


def test_adopting_twice_is_refused_and_books_nothing() -> None:
    manager = _manager()
    manager.adopt(_manual(status=OrderStatus.FILLED, filled="0.02"),
                  [_fill("web_1", "0.02", "t1")])  # fmt: skip
    with pytest.raises(OrderRejected, match=r"'web_1'.*holds it already"):
        manager.adopt(_manual(status=OrderStatus.FILLED, filled="0.02"),
                      [_fill("web_1", "0.02", "t1")])  # fmt: skip
    assert manager.net_quantity(SYMBOL) == Decimal("0.02")
    assert manager.fills_applied == 1


def test_a_fill_of_another_order_or_an_unknown_symbol_is_refused() -> None:
    manager = _manager()
    with pytest.raises(OrderRejected, match="fill 't9' belongs to order 'other'"):
        manager.adopt(_manual(), [_fill("other", "0.01", "t9")])
    assert "web_1" not in manager.orders
    stray = _manual().replace(symbol="ETH/USDT")
    with pytest.raises(OrderRejected, match="no instrument metadata for symbol 'ETH/USDT'"):
        manager.adopt(stray, [])
    assert manager.fills_applied == 0


def test_restore_after_an_adoption_does_not_book_its_fills_again() -> None:
    # a start-up reconciliation adopts before the store is rehydrated (same orders, same fills)
    manager = _manager()
    adopted = _manual(status=OrderStatus.FILLED, filled="0.02")
    manager.adopt(adopted, [_fill("web_1", "0.02", "t1")])
    other = _manual("web_2", OrderStatus.FILLED, "0.01", "0.01")
    manager.restore([adopted, other], [_fill("web_1", "0.02", "t1"), _fill("web_2", "0.01", "t2")])
    assert manager.net_quantity(SYMBOL) == Decimal("0.03")
    assert manager.fills_applied == 2
    assert set(manager.orders) == {"web_1", "web_2"}


def test_without_history_a_finished_adopted_order_is_not_kept() -> None:
    manager = _manager(retain_history=False)
    manager.adopt(_manual(status=OrderStatus.FILLED, filled="0.02"),
                  [_fill("web_1", "0.02", "t1")])  # fmt: skip
    assert "web_1" not in manager.orders
    assert manager.net_quantity(SYMBOL) == Decimal("0.02")
