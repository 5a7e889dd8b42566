"""An approved entry that the filters refuse never lends its client id to a later order (RK2)."""

from __future__ import annotations

from decimal import Decimal

from aegis.engine import TradingPipeline
from aegis.execution import OrderManager
from aegis.model.enums import MarketKind
from aegis.model.instrument import Instrument
from aegis.model.portfolio import Portfolio
from aegis.model.signals import Action, Decision
from aegis.risk import FixedQuantity
from aegis.venues.sim import FillModel, SimulatedExchange

SYMBOL = "XRP/USDT:USDT"
XRP = Instrument(
    symbol=SYMBOL,
    base="XRP",
    quote="USDT",
    kind=MarketKind.LINEAR_PERPETUAL,
    tick_size=Decimal("0.0001"),
    step_size=Decimal("0.1"),
    min_qty=Decimal("0.1"),
    min_notional=Decimal("5"),
)


def test_refused_gated_entry_skips_its_client_id() -> None:
    manager = OrderManager("bot1", {SYMBOL: XRP}, Portfolio({"USDT": Decimal(1000)}))
    venue = SimulatedExchange({SYMBOL: XRP}, FillModel())
    pipeline = TradingPipeline(manager, FixedQuantity(Decimal("1")), venue)
    asked: list[int] = []
    sizes = iter([Decimal("1"), Decimal("10")])  # 1 XRP at 1.0 is below the 5 USDT notional

    def gate(decision: Decision, reference_price: float) -> Decimal | None:
        asked.append(manager.next_sequence)  # the id the gate reserves under
        return next(sizes)

    pipeline.entry_gate = gate
    entry = Decision(SYMBOL, 0, Action.ENTER_LONG, 1.0, "cross up", "test")
    assert pipeline.prepare_order(entry, 1.0, 0) is None
    order = pipeline.prepare_order(entry, 1.0, 1)
    assert order is not None
    assert asked == [1, 2]
    assert order.client_order_id.endswith(".2")
