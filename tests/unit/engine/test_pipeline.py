"""The shared pipeline: decision -> sizing -> order manager -> venue -> portfolio."""

from __future__ import annotations

from decimal import Decimal

from aegis.engine import TradingPipeline
from aegis.execution import OrderManager
from aegis.model.enums import LiquidityRole, OrderStatus
from aegis.model.events import Fill, OrderEventKind, OrderUpdate
from aegis.model.instrument import Instrument
from aegis.model.order import Order
from aegis.model.portfolio import Portfolio
from aegis.model.signals import Action, Decision
from aegis.risk import FixedFraction, FixedQuantity, Sizer

SYMBOL = "ETH/USDT"


class RecordingVenue:
    """Accepts (or rejects) every order and remembers it; fills on demand."""

    def __init__(self, *, reject: bool = False) -> None:
        self.reject = reject
        self.submitted: list[Order] = []

    def submit(self, order: Order, ts_ns: int) -> list[OrderUpdate]:
        self.submitted.append(order)
        kind = OrderEventKind.REJECT if self.reject else OrderEventKind.ACCEPT
        reason = "insufficient balance" if self.reject else None
        return [OrderUpdate(order.client_order_id, kind, ts_ns, reason=reason)]

    def cancel(self, client_order_id: str, ts_ns: int) -> list[OrderUpdate]:
        return [OrderUpdate(client_order_id, OrderEventKind.CANCEL, ts_ns)]

    def fill(self, order: Order, price: str) -> list[OrderUpdate]:
        fee = order.quantity * Decimal(price) / 1000
        fill = Fill(
            order.client_order_id, order.symbol, order.side, Decimal(price), order.quantity, fee,
            "USDT", LiquidityRole.TAKER, 99, "t",
        )  # fmt: skip
        return [OrderUpdate(order.client_order_id, OrderEventKind.FILL, 99, fill)]


def _pipeline(
    sizer: Sizer, venue: RecordingVenue, *, retain_history: bool = True
) -> TradingPipeline:
    instrument = Instrument(
        symbol=SYMBOL, base="ETH", quote="USDT", tick_size=Decimal("0.01"),
        step_size=Decimal("0.0001"), min_notional=Decimal("10"),
    )  # fmt: skip
    manager = OrderManager(
        "b", {SYMBOL: instrument}, Portfolio({"USDT": Decimal(10_000)}),
        retain_history=retain_history,
    )  # fmt: skip
    return TradingPipeline(manager, sizer, venue)


def _decision(action: Action, ts_ms: int = 0) -> Decision:
    return Decision(SYMBOL, ts_ms, action, 1.0, "why", "test")


def test_decision_becomes_a_sized_accepted_order_then_a_position() -> None:
    venue = RecordingVenue()
    pipeline = _pipeline(FixedFraction("0.25"), venue)
    order = pipeline.on_decision(_decision(Action.ENTER_LONG), 2000.0, 1)
    assert order is not None
    assert order.status is OrderStatus.ACCEPTED
    assert order.quantity == Decimal("1.25")  # 2500 / 2000
    assert venue.submitted[0].status is OrderStatus.SUBMITTED
    pipeline.on_updates(venue.fill(order, "2001"))
    assert pipeline.order_manager.net_quantity(SYMBOL) == Decimal("1.25")
    assert [f.price for f in pipeline.fills] == [Decimal("2001")]
    assert pipeline.decisions == [_decision(Action.ENTER_LONG)]
    # the exit sells the whole position, whatever the sizer says
    exit_order = pipeline.on_decision(_decision(Action.EXIT_LONG, 5), 2100.0, 2)
    assert exit_order is not None
    assert exit_order.quantity == Decimal("1.25")


def test_order_below_min_notional_is_rejected_with_a_thought() -> None:
    venue = RecordingVenue()
    pipeline = _pipeline(FixedQuantity("0.001"), venue)
    assert pipeline.on_decision(_decision(Action.ENTER_LONG, 3), 2000.0, 1) is None
    assert venue.submitted == []
    (thought,) = pipeline.order_manager.thoughts
    assert thought.ts_ms == 3
    assert "rejected" in thought.thought
    assert "min_notional" in thought.thought
    assert pipeline.decisions == []


def test_venue_rejection_is_recorded_and_frees_the_symbol() -> None:
    venue = RecordingVenue(reject=True)
    pipeline = _pipeline(FixedQuantity("1"), venue)
    assert pipeline.on_decision(_decision(Action.ENTER_LONG), 2000.0, 1) is not None
    manager = pipeline.order_manager
    assert "insufficient balance" in manager.thoughts[-1].thought
    assert not manager.has_open_orders()
    assert pipeline.decisions == []
    venue.reject = False
    assert pipeline.on_decision(_decision(Action.ENTER_LONG), 2000.0, 2) is not None


def test_exit_when_flat_never_reaches_the_venue() -> None:
    venue = RecordingVenue()
    pipeline = _pipeline(FixedQuantity("1"), venue)
    assert pipeline.on_decision(_decision(Action.EXIT_LONG), 2000.0, 1) is None
    assert venue.submitted == []
    assert "ignored" in pipeline.order_manager.thoughts[0].thought


def test_cancel_goes_through_the_venue() -> None:
    venue = RecordingVenue()
    pipeline = _pipeline(FixedQuantity("1"), venue)
    order = pipeline.on_decision(_decision(Action.ENTER_LONG), 2000.0, 1)
    assert order is not None
    pipeline.cancel(order.client_order_id, 2)
    assert pipeline.order_manager.orders[order.client_order_id].status is OrderStatus.CANCELLED
    assert not pipeline.order_manager.has_open_orders()


def test_prepare_then_complete_is_on_decision_split_for_an_async_runner() -> None:
    venue = RecordingVenue()
    pipeline = _pipeline(FixedFraction("0.25"), venue)
    order = pipeline.prepare_order(_decision(Action.ENTER_LONG), 2000.0, 1)
    assert order is not None
    assert order.status is OrderStatus.SUBMITTED
    assert venue.submitted == []  # nothing reached the venue yet
    assert pipeline.decisions == []
    done = pipeline.complete_submission(order, venue.submit(order, 1))
    assert done.status is OrderStatus.ACCEPTED
    assert pipeline.decisions == [_decision(Action.ENTER_LONG)]
    # the symbol is busy until the order ends: a second entry is ignored before any venue call
    assert pipeline.prepare_order(_decision(Action.ENTER_LONG, 2), 2000.0, 2) is None


def test_complete_submission_records_a_venue_reject() -> None:
    venue = RecordingVenue(reject=True)
    pipeline = _pipeline(FixedFraction("0.25"), venue)
    order = pipeline.prepare_order(_decision(Action.ENTER_LONG), 2000.0, 1)
    assert order is not None
    done = pipeline.complete_submission(order, venue.submit(order, 1))
    assert done.status is OrderStatus.REJECTED
    assert pipeline.decisions == []
    thought = pipeline.order_manager.thoughts[-1].thought
    assert f"venue rejected {order.client_order_id}: insufficient balance" in thought
    assert pipeline.prepare_order(_decision(Action.ENTER_LONG, 2), 2000.0, 2) is not None


def test_a_rejected_order_is_returned_even_when_the_manager_keeps_no_history() -> None:
    venue = RecordingVenue(reject=True)
    pipeline = _pipeline(FixedQuantity("1"), venue, retain_history=False)
    order = pipeline.on_decision(_decision(Action.ENTER_LONG), 2000.0, 1)
    assert order is not None
    assert order.status is OrderStatus.REJECTED
    assert order.client_order_id not in pipeline.order_manager.orders
