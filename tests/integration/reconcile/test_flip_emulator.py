"""A one-way flip journaled from the emulator's fills: clean reconciliation, exact restart.

The emulator's account is one-way: long 10 XRP, then a market sell of 30 leaves it short 20.
Before the fix the journal stored the short leg only, so the long leg stayed at 10 in the store:
reconciliation reported a position_drift it could not adopt, and a restart put a ghost long
10 back into the journal's book beside the short.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest
from tests.integration.reconcile.conftest import SYMBOL

from aegis.engine import (
    Durability,
    DurableJournal,
    RiskGate,
    RuntimeOptions,
    TradingPipeline,
    TradingRuntime,
)
from aegis.engine.recovery import recover
from aegis.execution import OrderManager
from aegis.execution.reconcile import MismatchKind, ReconcilePolicy, Reconciler
from aegis.model import (
    Fill,
    Order,
    OrderEventKind,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Portfolio,
    PositionMode,
    PositionSide,
)
from aegis.risk import FixedQuantity, KillSwitch, RiskEngine
from aegis.store import Store
from aegis.strategies import create_strategy
from aegis.venues.ccxt import CcxtVenue
from aegis.venues.emulator.server import EmulatorServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

TENANT, BOT = "tenant-f", "bot-f"
LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
_ticks = itertools.count(1_800_000_000_000_000_000, 1_000)


def clock() -> int:
    return next(_ticks)


def _reconciler(venue: CcxtVenue, store: Store) -> Reconciler:
    return Reconciler(venue, store, TENANT, BOT, ReconcilePolicy.ALERT, symbols=[SYMBOL],
                      clock=clock)  # fmt: skip


def _order(cid: str, side: OrderSide, quantity: str, status: OrderStatus) -> Order:
    return Order(
        client_order_id=cid, bot_id=BOT, symbol=SYMBOL, side=side, type=OrderType.MARKET,
        quantity=Decimal(quantity), price=None, status=status, created_ns=clock(),
    )  # fmt: skip


async def _fills_of(venue: CcxtVenue, cid: str) -> list[Fill]:
    return [f for f in await venue.fetch_fills(SYMBOL) if f.client_order_id == cid]


async def _journaled_market_order(
    venue: CcxtVenue, server: EmulatorServer, journal: DurableJournal, cid: str,
    side: OrderSide, quantity: str,
) -> list[Fill]:  # fmt: skip
    """Intent, venue ack and fills, each written through the journal as the runtime does."""
    order = _order(cid, side, quantity, OrderStatus.SUBMITTED)
    journal.write_intent(order)
    ack = await venue.submit(order)
    order = order.apply(ack)
    journal.record_update(order, ack)
    server.step()  # the market order fills on the next candle
    fills = await _fills_of(venue, cid)
    for fill in fills:
        kind = (
            OrderEventKind.FILL
            if order.filled_quantity + fill.quantity >= order.quantity
            else OrderEventKind.PARTIAL_FILL
        )
        update = OrderUpdate(cid, kind, fill.ts_ns, fill, ack.venue_order_id)
        order = order.apply(update)
        journal.record_update(order, update)
    return fills


async def test_a_flip_reconciles_without_position_drift(
    venue: CcxtVenue, store: Store, server: EmulatorServer
) -> None:
    journal = DurableJournal(store, TENANT, BOT, venue.instruments())
    await _journaled_market_order(venue, server, journal, "flip-1", OrderSide.BUY, "10")
    [flip] = await _journaled_market_order(venue, server, journal, "flip-2", OrderSide.SELL, "30")
    [venue_position] = await venue.fetch_positions()
    assert (venue_position.side, venue_position.quantity) == (SHORT, Decimal(20))
    legs = {leg.side: leg for leg in store.positions(TENANT, BOT)}
    assert legs[LONG].quantity == 0
    assert (legs[SHORT].quantity, legs[SHORT].average_entry_price) == (Decimal(20), flip.price)
    report = await _reconciler(venue, store).run("periodic")
    assert report.count(MismatchKind.POSITION_DRIFT) == 0
    assert report.is_clean, report.mismatches
    closed, opened = store.trades(TENANT, BOT)
    assert (closed.trade_id, closed.is_open, closed.exit_price) == (
        "flip-1:long",
        False,
        flip.price,
    )
    assert (opened.trade_id, opened.is_open, opened.quantity) == ("flip-2:short", True, Decimal(20))


def _runtime(venue: CcxtVenue, store: Store) -> tuple[TradingRuntime, Durability]:
    """The live runtime's order path and durable side on ``venue`` (not started: no feed)."""
    instruments = {SYMBOL: venue.instruments()[SYMBOL]}
    journal = DurableJournal(store, TENANT, BOT, instruments)
    manager = OrderManager(
        BOT, instruments, Portfolio({"USDT": Decimal(10_000)}, PositionMode.ONE_WAY),
        intent_writer=journal.write_intent,
    )  # fmt: skip
    risk = RiskEngine(bot_id=BOT, tenant=TENANT)
    gate = RiskGate(risk, manager, {}, journal=journal)
    durability = Durability(journal, risk, gate, kill_switch=KillSwitch(), clock_ns=clock)
    # Any: the synchronous venue seam is the backtest's; this runtime sends through ``venue``
    sync_venue: Any = None
    pipeline = TradingPipeline(manager, FixedQuantity(Decimal(10)), sync_venue)
    strategy = create_strategy("ema_cross", {"fast": 3, "slow": 5})
    runtime = TradingRuntime(
        venue, pipeline, {SYMBOL: strategy}, RuntimeOptions(symbols=(SYMBOL,), timeframe="5m"),
        clock=lambda: clock() // 1_000_000, wall_clock=lambda: clock() // 1_000_000,
        durability=durability,
    )  # fmt: skip
    return runtime, durability


async def _through_runtime(
    runtime: TradingRuntime, venue: CcxtVenue, server: EmulatorServer, cid: str,
    side: OrderSide, quantity: str,
) -> list[Fill]:  # fmt: skip
    """Send a market order the way the live runtime does: intent, ack, fills from REST."""
    intent = _order(cid, side, quantity, OrderStatus.NEW)
    submitted = runtime.pipeline.order_manager.submit(intent, clock())
    runtime.applier.apply([await venue.submit(submitted)])
    server.step()
    fills = await _fills_of(venue, cid)
    runtime.applier.apply_fills(fills)
    return fills


async def test_a_restart_after_a_flip_restores_the_flipped_position(
    venue: CcxtVenue, store: Store, server: EmulatorServer
) -> None:
    runtime, durability = _runtime(venue, store)
    await _through_runtime(runtime, venue, server, "bot-f.1", OrderSide.BUY, "10")
    [flip] = await _through_runtime(runtime, venue, server, "bot-f.2", OrderSide.SELL, "30")
    assert durability.journal.flush()

    restarted, again = _runtime(venue, store)
    await recover(restarted, again, store, reconciler=_reconciler(venue, store))
    assert again.restored.start_reconciliation == "clean"
    portfolio = restarted.pipeline.order_manager.portfolio
    short = portfolio.position(SYMBOL)
    assert short is not None
    assert (short.side, short.quantity, short.average_entry_price) == (
        SHORT,
        Decimal(20),
        flip.price,
    )
    book = {leg.side: leg for leg in again.journal.book.legs()}
    assert book[LONG].quantity == 0  # no ghost long beside the short
    assert (book[SHORT].quantity, book[SHORT].average_entry_price) == (Decimal(20), flip.price)

    # the next fills after the restart move the right legs and close the flipped trip
    [close] = await _through_runtime(restarted, venue, server, "bot-f.3", OrderSide.BUY, "20")
    assert again.journal.flush()
    assert all(leg.quantity == 0 for leg in store.positions(TENANT, BOT))
    closed = {t.trade_id: t for t in store.trades(TENANT, BOT)}
    short_trip = closed["bot-f.2:short"]
    assert (short_trip.is_open, short_trip.quantity) == (False, Decimal(20))
    assert (short_trip.entry_price, short_trip.exit_price) == (flip.price, close.price)
    trading = (flip.price - close.price) * 20
    flip_share = flip.fee * 20 / 30
    assert short_trip.fees == flip_share + close.fee
    assert short_trip.pnl == trading - short_trip.fees
    assert not closed["bot-f.1:long"].is_open
    assert (await _reconciler(venue, store).run("periodic")).is_clean
