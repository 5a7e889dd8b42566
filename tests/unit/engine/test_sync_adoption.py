"""OrderSync takes over the orders reconciliation adopted into the store, booking fills once."""

from __future__ import annotations

from collections.abc import Container, Mapping
from decimal import Decimal

from aegis.engine import TradingPipeline
from aegis.engine.applier import UpdateApplier
from aegis.engine.metrics import RuntimeMetrics
from aegis.engine.sync import OrderSync
from aegis.execution import OrderManager
from aegis.model.enums import LiquidityRole, OrderSide, OrderStatus, OrderType
from aegis.model.events import Fill, OrderEventKind, OrderUpdate
from aegis.model.instrument import Instrument
from aegis.model.order import Order
from aegis.model.portfolio import Portfolio
from aegis.risk import FixedQuantity
from aegis.venues.base import VenueOrder

SYMBOL = "ETH/USDT"


class NoVenue:
    def submit(self, order: Order, ts_ns: int) -> list[OrderUpdate]:
        raise AssertionError("not used")

    def cancel(self, client_order_id: str, ts_ns: int) -> list[OrderUpdate]:
        raise AssertionError("not used")


class Venue:
    """Answers ``fetch_order`` / ``fetch_fills`` with what the exchange holds."""

    def __init__(self) -> None:
        self.orders: dict[str, VenueOrder] = {}
        self.fills: list[Fill] = []
        self.asked: list[str] = []

    async def fetch_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        self.asked.append(client_order_id)
        return self.orders.get(client_order_id)

    async def fetch_fills(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        return list(self.fills)


class Recorded:
    """The store side: what reconciliation adopted, and how often it was read."""

    def __init__(self) -> None:
        self.reconciliations = 0
        self.orders: list[tuple[Order, list[Fill]]] = []
        self.reads = 0
        self.reloads = 0

    def recorded_orders_unknown(
        self, symbol: str, known: Container[str]
    ) -> list[tuple[Order, list[Fill]]]:
        self.reads += 1
        return [(o, f) for o, f in self.orders if o.symbol == symbol and o.client_order_id
                not in known]  # fmt: skip

    def reload_positions(self, instruments: Mapping[str, Instrument]) -> None:
        self.reloads += 1


def _fill(trade_id: str, quantity: str) -> Fill:
    return Fill(
        "web_7", SYMBOL, OrderSide.BUY, Decimal(100), Decimal(quantity), Decimal("0.1"), "USDT",
        LiquidityRole.MAKER, 3, trade_id,
    )  # fmt: skip


def _manual(status: OrderStatus, filled: str) -> Order:
    return Order(
        client_order_id="web_7", bot_id="b", symbol=SYMBOL, side=OrderSide.BUY,
        type=OrderType.LIMIT, quantity=Decimal(2), price=Decimal(100), stop_price=None,
        status=status, filled_quantity=Decimal(filled), average_fill_price=Decimal(100),
        venue_order_id="v7", created_ns=1, updated_ns=3, tag="adopted",
    )  # fmt: skip


def _venue_order(status: OrderStatus, filled: str) -> VenueOrder:
    return VenueOrder(
        client_order_id="web_7", venue_order_id="v7", symbol=SYMBOL, side=OrderSide.BUY,
        type=OrderType.LIMIT, status=status, quantity=Decimal(2), filled_quantity=Decimal(filled),
        average_price=Decimal(100), price=Decimal(100),
    )  # fmt: skip


def _sync() -> tuple[OrderSync, Venue, Recorded]:
    instrument = Instrument.permissive(SYMBOL, quote="USDT", base="ETH")
    manager = OrderManager("b", {SYMBOL: instrument}, Portfolio({"USDT": Decimal(10_000)}))
    applier = UpdateApplier(TradingPipeline(manager, FixedQuantity("1"), NoVenue()))
    venue, recorded = Venue(), Recorded()
    sync = OrderSync(venue, applier, RuntimeMetrics(), recorded=recorded)  # type: ignore[arg-type]
    return sync, venue, recorded


async def test_an_adopted_order_joins_the_process_with_its_stored_fill_booked_once() -> None:
    sync, venue, recorded = _sync()
    manager = sync.applier.pipeline.order_manager
    recorded.orders = [(_manual(OrderStatus.PARTIALLY_FILLED, "1"), [_fill("t1", "1")])]
    # the venue has both fills by now: t1 (in the store) and t2 (since the reconciliation)
    venue.orders["web_7"] = _venue_order(OrderStatus.FILLED, "2")
    venue.fills = [_fill("t1", "1"), _fill("t2", "1")]
    recorded.reconciliations = 1
    await sync.confirm(SYMBOL)
    order = manager.orders["web_7"]
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == Decimal(2)
    # t1 was booked from the store and skipped when the venue reported it: 2, never 3
    assert manager.net_quantity(SYMBOL) == Decimal(2)
    assert manager.fills_applied == 2
    assert sync.applier.skipped == {}  # t1 was never offered twice: fill_updates drops it
    assert venue.asked == ["web_7"]  # the adopted open order was confirmed like our own
    assert (sync.adopted, recorded.reloads) == (1, 1)


async def test_the_store_is_read_once_per_reconciliation_and_nothing_is_booked_twice() -> None:
    sync, _, recorded = _sync()
    manager = sync.applier.pipeline.order_manager
    recorded.orders = [(_manual(OrderStatus.FILLED, "2"), [_fill("t1", "1"), _fill("t2", "1")])]
    await sync.confirm(SYMBOL)  # a replay's confirm before any reconciliation: no read
    assert recorded.reads == 1  # first look: the count differs from "never looked"
    recorded.reads = 0
    for _ in range(3):
        await sync.confirm(SYMBOL)
    assert recorded.reads == 0
    recorded.reconciliations = 1
    await sync.confirm(SYMBOL)
    await sync.confirm(SYMBOL)
    assert recorded.reads == 1
    assert manager.net_quantity(SYMBOL) == Decimal(2)
    assert manager.fills_applied == 2
    assert sync.adopted == 1


async def test_a_stream_update_repeating_an_adopted_fill_is_a_duplicate() -> None:
    sync, _, recorded = _sync()
    manager = sync.applier.pipeline.order_manager
    recorded.orders = [(_manual(OrderStatus.PARTIALLY_FILLED, "1"), [_fill("t1", "1")])]
    sync.adopt_recorded(SYMBOL)
    late = OrderUpdate("web_7", OrderEventKind.PARTIAL_FILL, 4, _fill("t1", "1"), "v7")
    sync.applier.apply([late])
    assert manager.net_quantity(SYMBOL) == Decimal(1)
    assert sync.applier.skipped["duplicate_fill"] == 1


async def test_without_a_store_nothing_is_adopted() -> None:
    sync, _, recorded = _sync()
    sync.recorded = None
    recorded.orders = [(_manual(OrderStatus.FILLED, "2"), [_fill("t1", "2")])]
    await sync.confirm(SYMBOL)
    assert sync.applier.pipeline.order_manager.orders == {}
