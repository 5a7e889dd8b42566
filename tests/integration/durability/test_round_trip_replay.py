"""Round trips closed after the last snapshot reach the risk engine at the next start.

A crash after trades closed but before the next periodic snapshot used to lose them: the
restored cooldown and Kelly history never heard of them. Each process here is a paper runtime
with its durable side on one real SQLite store; the trades are journaled as the runtime does
(intent, then the fill's update), and ``recover`` runs as at a start (paper: no reconciler).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from aegis.engine.durable import Durability
from aegis.engine.journal import DurableJournal
from aegis.engine.paper import PaperVenue
from aegis.engine.pipeline import TradingPipeline
from aegis.engine.recovery import recover, save_snapshot, snapshot_state
from aegis.engine.risk_gate import RiskGate
from aegis.engine.runtime import RuntimeOptions, TradingRuntime
from aegis.execution import OrderManager
from aegis.model.enums import LiquidityRole, OrderSide, OrderStatus, OrderType, PositionMode
from aegis.model.events import Fill, OrderEventKind, OrderUpdate
from aegis.model.instrument import Instrument
from aegis.model.order import Order
from aegis.model.portfolio import Portfolio
from aegis.risk import FixedQuantity, KillSwitch, RiskEngine, RiskSettings
from aegis.store import Store
from aegis.strategies import create_strategy
from aegis.venues.sim import FillModel

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

TENANT, BOT = "default", "bot1"
XRP, BTC = "XRP/USDT:USDT", "BTC/USDT:USDT"
START_NS = 1_800_000_000_000_000_000
_ticks = itertools.count(START_NS, 1_000_000_000)


def clock() -> int:
    return next(_ticks)


class Instruments:
    """Market data for the paper venue: instruments only."""

    name = "instruments"

    async def connect(self) -> None:
        return None

    def instruments(self) -> Mapping[str, Instrument]:
        return {s: Instrument.permissive(s) for s in (XRP, BTC)}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store(f"sqlite:///{tmp_path / 'aegis.db'}")
    opened.upgrade()
    return opened


class Process:
    """One bot process: runtime, durable side and a counter of its client order ids."""

    def __init__(self, store: Store) -> None:
        instruments = {s: Instrument.permissive(s) for s in (XRP, BTC)}
        self.journal = DurableJournal(store, TENANT, BOT, instruments)
        manager = OrderManager(
            BOT, instruments, Portfolio({"USDT": Decimal(10_000)}, PositionMode.ONE_WAY),
            intent_writer=self.journal.write_intent,
        )  # fmt: skip
        # three consecutive losses pause entries for an hour
        self.risk = RiskEngine(RiskSettings(cooldown_losses=3), bot_id=BOT, tenant=TENANT)
        gate = RiskGate(self.risk, manager, {}, journal=self.journal)
        self.durability = Durability(
            self.journal, self.risk, gate, kill_switch=KillSwitch(), clock_ns=clock
        )
        market: Any = Instruments()  # Any: a partial Venue (the paper venue uses these only)
        venue = PaperVenue(market, FillModel(), {"USDT": Decimal(10_000)})
        self.runtime = TradingRuntime(
            venue, TradingPipeline(manager, FixedQuantity(Decimal(10)), None),  # type: ignore[arg-type]
            {s: create_strategy("ema_cross", {"fast": 3, "slow": 5}) for s in (XRP, BTC)},
            RuntimeOptions(symbols=(XRP, BTC), timeframe="5m"),
            clock=lambda: clock() // 1_000_000, wall_clock=lambda: clock() // 1_000_000,
            durability=self.durability,
        )  # fmt: skip
        self.store = store

    async def start(self) -> None:
        await recover(self.runtime, self.durability, self.store, reconciler=None)

    async def snapshot(self) -> None:
        await save_snapshot(self.store, self.runtime, self.durability)

    def fill(self, cid: str, symbol: str, side: OrderSide, price: str) -> None:
        """A market order of 10 at ``price`` journaled from intent to fill (fee 0.01)."""
        order = Order(
            client_order_id=cid, bot_id=BOT, symbol=symbol, side=side, type=OrderType.MARKET,
            quantity=Decimal(10), price=None, status=OrderStatus.SUBMITTED, created_ns=clock(),
        )  # fmt: skip
        self.journal.write_intent(order)
        ack = OrderUpdate(cid, OrderEventKind.ACCEPT, clock(), None, f"v-{cid}")
        order = order.apply(ack)
        self.journal.record_update(order, ack)
        ts = clock()
        fill = Fill(cid, symbol, side, Decimal(price), Decimal(10), Decimal("0.01"), "USDT",
                    LiquidityRole.TAKER, ts, f"venue-{cid}")  # fmt: skip
        update = OrderUpdate(cid, OrderEventKind.FILL, ts, fill, f"v-{cid}")
        self.journal.record_update(order.apply(update), update)

    def round_trip(self, n: int, symbol: str, pnl_sign: int) -> None:
        """Buy 10 at 1.0, sell them at 1.1 (a win) or 0.9 (a loss); stored when it returns."""
        self.fill(f"{BOT}.{n}a", symbol, OrderSide.BUY, "1.0")
        self.fill(f"{BOT}.{n}b", symbol, OrderSide.SELL, "1.1" if pnl_sign > 0 else "0.9")
        assert self.journal.flush()

    def close(self) -> None:
        self.journal.drain()


def _in_cooldown(process: Process) -> bool:
    return process.risk.cooldown.until_ns is not None


async def test_round_trips_closed_after_the_snapshot_are_replayed_once(store: Store) -> None:
    first = Process(store)
    await first.start()
    first.round_trip(1, XRP, -1)
    await first.snapshot()
    first.round_trip(2, BTC, -1)
    first.round_trip(3, XRP, -1)
    assert _in_cooldown(first)
    first.close()  # the crash: no snapshot after trades 2 and 3

    second = Process(store)
    await second.start()
    assert second.durability.restored.round_trips_replayed == 2
    assert _in_cooldown(second)  # the third loss started the cooldown again
    assert second.risk.history.pnls == first.risk.history.pnls
    assert second.risk.cooldown.state() == first.risk.cooldown.state()
    assert second.durability.round_trip_marks == first.durability.round_trip_marks
    assert second.durability.restored.to_json()["round_trips_replayed"] == 2
    await second.snapshot()
    second.close()

    third = Process(store)
    await third.start()
    assert third.durability.restored.round_trips_replayed == 0
    assert third.risk.state() == second.risk.state()


async def test_without_a_snapshot_every_closed_trade_is_replayed_in_exit_order(
    store: Store,
) -> None:
    first = Process(store)
    first.round_trip(1, XRP, -1)
    first.round_trip(2, BTC, +1)
    first.round_trip(3, XRP, -1)
    first.fill(f"{BOT}.4a", BTC, OrderSide.BUY, "1.0")  # open: no round trip yet
    assert first.journal.flush()
    first.close()

    second = Process(store)
    await second.start()
    assert second.durability.restored.round_trips_replayed == 3
    assert second.risk.history.pnls == first.risk.history.pnls
    # the win between the losses reset the count: exit order across symbols
    assert second.risk.cooldown.consecutive_losses == 1
    assert not _in_cooldown(second)


async def test_a_snapshot_from_before_the_marks_replays_nothing(store: Store) -> None:
    first = Process(store)
    await first.start()
    first.round_trip(1, XRP, -1)
    first.round_trip(2, XRP, -1)
    old = snapshot_state(first.runtime, first.durability)
    del old["round_trip_marks"]  # as written before the marks existed
    store.save_snapshot(TENANT, BOT, "host:1", old)
    first.close()

    second = Process(store)
    with capture_logs() as logs:
        await second.start()
    assert second.durability.restored.round_trips_replayed == 0
    assert second.risk.cooldown.consecutive_losses == 2  # the snapshot's, not 4
    [why] = [e for e in logs if e["event"] == "round_trips_not_replayed"]
    assert (why["log_level"], why["closed_trades"]) == ("warning", 2)
    # the marks start at the newest stored trade: a later crash replays only newer ones
    second.round_trip(3, XRP, -1)
    assert _in_cooldown(second)
    third = Process(store)
    await second.snapshot()
    second.round_trip(4, XRP, -1)
    second.close()
    await third.start()
    assert third.durability.restored.round_trips_replayed == 1
    assert third.risk.history.pnls == second.risk.history.pnls


def test_marks_round_trip_through_the_snapshot_state(store: Store) -> None:
    process = Process(store)
    process.round_trip(1, XRP, -1)
    state = process.durability.state()
    [(symbol, mark)] = state["round_trip_marks"].items()
    assert (symbol, mark[1]) == (XRP, f"{BOT}.1a:long")
    restored = Process(store)
    restored.durability.restore(state)
    assert restored.durability.round_trip_marks == process.durability.round_trip_marks
    assert not restored.durability.round_trip_marks_unknown
    with pytest.raises(ValueError, match="round_trip_marks\\['XRP"):
        restored.durability.restore({"round_trip_marks": {XRP: [1]}})
    process.close()
    restored.close()
