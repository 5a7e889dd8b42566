"""UpdateApplier: duplicates and out-of-order venue updates never double-apply (idempotency)."""

from __future__ import annotations

from decimal import Decimal

from aegis.engine import TradingPipeline
from aegis.engine.applier import UpdateApplier
from aegis.execution import OrderManager
from aegis.model.enums import LiquidityRole, OrderSide, OrderStatus
from aegis.model.events import Fill, OrderEventKind, OrderUpdate
from aegis.model.instrument import Instrument
from aegis.model.order import Order
from aegis.model.portfolio import Portfolio
from aegis.model.signals import Action, Decision
from aegis.risk import FixedQuantity

SYMBOL = "ETH/USDT"


class NoVenue:
    def submit(self, order: Order, ts_ns: int) -> list[OrderUpdate]:
        raise AssertionError("the async runtime submits, not the pipeline")

    def cancel(self, client_order_id: str, ts_ns: int) -> list[OrderUpdate]:
        raise AssertionError("the async runtime cancels, not the pipeline")


def make() -> tuple[UpdateApplier, Order]:
    instrument = Instrument.permissive(SYMBOL, quote="USDT", base="ETH")
    manager = OrderManager("b", {SYMBOL: instrument}, Portfolio({"USDT": Decimal(10_000)}))
    pipeline = TradingPipeline(manager, FixedQuantity("2"), NoVenue())
    order = pipeline.prepare_order(
        Decision(SYMBOL, 0, Action.ENTER_LONG, 1.0, "why", "t"), 100.0, 1
    )
    assert order is not None
    return UpdateApplier(pipeline), order


def fill(order: Order, quantity: str, trade_id: str, kind: OrderEventKind) -> OrderUpdate:
    execution = Fill(
        order.client_order_id, SYMBOL, OrderSide.BUY, Decimal(100), Decimal(quantity),
        Decimal("0.1"), "USDT", LiquidityRole.TAKER, 5, trade_id,
    )  # fmt: skip
    return OrderUpdate(order.client_order_id, kind, 5, execution, "v1")


def test_a_fill_seen_twice_is_applied_once() -> None:
    applier, order = make()
    partial = fill(order, "1", "t1", OrderEventKind.PARTIAL_FILL)
    applier.apply([partial])
    applier.apply([partial])
    manager = applier.pipeline.order_manager
    assert manager.orders[order.client_order_id].filled_quantity == Decimal(1)
    assert manager.net_quantity(SYMBOL) == Decimal(1)
    assert applier.skipped["duplicate_fill"] == 1


def test_acknowledgement_after_the_fill_is_dropped_not_raised() -> None:
    applier, order = make()
    applier.apply([fill(order, "2", "t1", OrderEventKind.FILL)])
    applier.apply([OrderUpdate(order.client_order_id, OrderEventKind.ACCEPT, 6, None, "v1")])
    assert applier.pipeline.order_manager.orders[order.client_order_id].status is OrderStatus.FILLED
    assert applier.skipped["stale_status"] == 1


def test_rest_fills_after_stream_fills_add_only_the_missing_trade() -> None:
    applier, order = make()
    applier.apply([fill(order, "1", "t1", OrderEventKind.PARTIAL_FILL)])
    first = fill(order, "1", "t1", OrderEventKind.PARTIAL_FILL).fill
    second = fill(order, "1", "t2", OrderEventKind.PARTIAL_FILL).fill
    assert first is not None
    assert second is not None
    applied = applier.apply_fills([first, second])
    assert [u.kind for u in applied] == [OrderEventKind.FILL]
    current = applier.pipeline.order_manager.orders[order.client_order_id]
    assert current.status is OrderStatus.FILLED
    assert current.filled_quantity == Decimal(2)


def test_a_fill_beyond_the_order_quantity_is_refused() -> None:
    applier, order = make()
    applier.apply([fill(order, "3", "t1", OrderEventKind.FILL)])
    assert applier.pipeline.order_manager.orders[order.client_order_id].filled_quantity == 0
    assert applier.skipped["overfill"] == 1


def test_update_for_an_unknown_order_is_counted_and_ignored() -> None:
    applier, _ = make()
    applier.apply([OrderUpdate("someone-else", OrderEventKind.ACCEPT, 1)])
    assert applier.skipped["unknown_order"] == 1
