"""Reconciler and recovery on a real SQLite store with an in-memory venue: both policies."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest

from aegis.execution.reconcile import (
    ADOPTED_TAG,
    HealAction,
    MismatchKind,
    ReconcilePolicy,
    Reconciler,
    ReconciliationReport,
    resolve_pending,
)
from aegis.model import (
    Fill,
    Instrument,
    OrderSide,
    OrderStatus,
    PositionSide,
    VenueError,
)
from aegis.store import Store
from aegis.venues.base import Venue, VenueOrder, VenuePosition

from .builders import SYMBOL, fill, order, venue_leg, venue_order

S = OrderStatus
K = MismatchKind
TENANT, BOT = "t1", "bot1"


class FakeVenue:
    """The reads reconciliation uses, from lists the test sets (our own protocol boundary)."""

    def __init__(self) -> None:
        self.orders: list[VenueOrder] = []
        self.fills: list[Fill] = []
        self.positions: list[VenuePosition] = []
        self.balances: dict[str, Decimal] = {}
        self.fail: Exception | None = None
        self.calls: list[str] = []

    def instruments(self) -> Mapping[str, Instrument]:
        return {SYMBOL: Instrument.permissive(SYMBOL, quote="USDT")}

    async def fetch_orders(self, symbol: str, since_ms: int | None = None) -> list[VenueOrder]:
        self.calls.append(f"orders {symbol} {since_ms}")
        if self.fail is not None:
            raise self.fail
        return [o for o in self.orders if o.symbol == symbol]

    async def fetch_fills(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        self.calls.append(f"fills {symbol} {since_ms}")
        return [f for f in self.fills if f.symbol == symbol]

    async def fetch_positions(self) -> list[VenuePosition]:
        return list(self.positions)

    async def fetch_balances(self) -> Mapping[str, Decimal]:
        return dict(self.balances)

    async def fetch_order(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        return next((o for o in self.orders if o.client_order_id == client_order_id), None)


class Clock:
    def __init__(self) -> None:
        self.now_ns = 1_700_000_000_000_000_000

    def __call__(self) -> int:
        self.now_ns += 1
        return self.now_ns


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'reconcile.db'}")
    opened.upgrade()
    yield opened
    opened.close()


@pytest.fixture
def venue() -> FakeVenue:
    return FakeVenue()


def _reconciler(
    store: Store, venue: FakeVenue, policy: ReconcilePolicy, **kwargs: Any
) -> Reconciler:
    return Reconciler(cast(Venue, venue), store, TENANT, BOT, policy, symbols=[SYMBOL],
                      clock=Clock(), **kwargs)  # fmt: skip


def _foreign_filled(venue: FakeVenue) -> None:
    venue.orders.append(venue_order("foreign-1", S.FILLED, quantity="3", filled="3",
                                    average="101", price=None))  # fmt: skip
    venue.fills += [fill("foreign-1", "t1", "1", "100"), fill("foreign-1", "t2", "2", "101.5")]
    venue.positions.append(venue_leg(PositionSide.LONG, "3"))


async def test_adopt_records_a_foreign_order_with_exact_fills_and_position(
    store: Store, venue: FakeVenue
) -> None:
    _foreign_filled(venue)
    report = await _reconciler(store, venue, ReconcilePolicy.ADOPT).run("start")
    assert report.count(K.MISSING_LOCALLY) == 3  # the order and its two fills
    assert report.count(K.POSITION_DRIFT) == 1
    assert {o.action for o in report.outcomes} == {HealAction.ADOPTED}
    stored = store.get_order(TENANT, "foreign-1")
    assert stored is not None
    assert (stored.status, stored.filled_quantity, stored.tag) == (
        S.FILLED,
        Decimal(3),
        ADOPTED_TAG,
    )
    assert stored.average_fill_price == Decimal(101)  # the venue's average is adopted
    assert [(f.trade_id, f.quantity, f.price) for f in store.fills(TENANT, BOT)] == [
        ("t1", Decimal(1), Decimal(100)),
        ("t2", Decimal(2), Decimal("101.5")),
    ]
    [position] = store.positions(TENANT, BOT)
    assert (position.side, position.quantity) == (PositionSide.LONG, Decimal(3))
    assert position.average_entry_price == Decimal("101")
    runs = store.reconciliation_runs(TENANT, BOT)
    assert (runs[0].status, runs[0].mismatch_count) == ("mismatched", 4)
    again = await _reconciler(store, venue, ReconcilePolicy.ADOPT).run("periodic")
    assert again.is_clean
    assert again.status == "clean"


async def test_alert_records_and_alerts_without_changing_local_state(
    store: Store, venue: FakeVenue
) -> None:
    _foreign_filled(venue)
    alerts: list[ReconciliationReport] = []

    async def on_alert(report: ReconciliationReport) -> None:
        alerts.append(report)

    report = await _reconciler(store, venue, ReconcilePolicy.ALERT, on_alert=on_alert).run("start")
    assert alerts == [report]
    assert {o.action for o in report.outcomes} == {HealAction.ALERTED}
    assert store.orders(TENANT, BOT) == []
    assert store.fills(TENANT, BOT) == []
    assert store.positions(TENANT, BOT) == []
    recorded = store.reconciliation_mismatches(TENANT, report.run_id)
    assert [(m.kind, m.action) for m in recorded] == [
        (str(o.mismatch.kind), "alerted") for o in report.outcomes
    ]


async def test_clean_run_does_not_alert(store: Store, venue: FakeVenue) -> None:
    alerts: list[ReconciliationReport] = []
    report = await _reconciler(store, venue, ReconcilePolicy.ADOPT, on_alert=alerts.append).run(
        "start"
    )
    assert report.is_clean
    assert alerts == []
    # RC1: all history, no window
    assert venue.calls == [f"orders {SYMBOL} None", f"fills {SYMBOL} None"]


async def test_adopt_moves_a_submitted_order_to_the_venue_status(
    store: Store, venue: FakeVenue
) -> None:
    store.record_intent(TENANT, order("ours-1", S.SUBMITTED))
    venue.orders.append(venue_order("ours-1", S.ACCEPTED))
    report = await _reconciler(store, venue, ReconcilePolicy.ADOPT).run("reconnect")
    assert [(o.mismatch.kind, o.action) for o in report.outcomes] == [
        (K.STATUS_DRIFT, HealAction.ADOPTED)
    ]
    stored = store.get_order(TENANT, "ours-1")
    assert stored is not None
    assert stored.status is S.ACCEPTED
    events = store.order_events(TENANT, "ours-1")
    assert [(e.previous_status, e.status) for e in events[1:]] == [(S.SUBMITTED, S.ACCEPTED)]


async def test_adopt_applies_missed_fills_to_a_known_order(store: Store, venue: FakeVenue) -> None:
    store.record_intent(TENANT, order("ours-2", S.ACCEPTED, quantity="2", side=OrderSide.SELL))
    venue.orders.append(venue_order("ours-2", S.FILLED, quantity="2", filled="2",
                                    average="100", side=OrderSide.SELL))  # fmt: skip
    venue.fills.append(fill("ours-2", "t7", "2", "100", side=OrderSide.SELL))
    venue.positions.append(venue_leg(PositionSide.SHORT, "2"))
    report = await _reconciler(store, venue, ReconcilePolicy.ADOPT).run("reconnect")
    assert {o.action for o in report.outcomes} == {HealAction.ADOPTED}
    stored = store.get_order(TENANT, "ours-2")
    assert stored is not None
    assert (stored.status, stored.filled_quantity) == (S.FILLED, Decimal(2))
    [position] = store.positions(TENANT, BOT)
    assert (position.side, position.quantity) == (PositionSide.SHORT, Decimal(2))


async def test_adopt_closes_a_pending_order_the_venue_does_not_know(
    store: Store, venue: FakeVenue
) -> None:
    store.record_intent(TENANT, order("lost-1", S.SUBMITTED))
    report = await _reconciler(store, venue, ReconcilePolicy.ADOPT).run("periodic")
    assert [(o.mismatch.kind, o.action) for o in report.outcomes] == [
        (K.MISSING_ON_EXCHANGE, HealAction.ADOPTED)
    ]
    stored = store.get_order(TENANT, "lost-1")
    assert stored is not None
    assert stored.status is S.REJECTED
    assert stored.reason is not None
    assert "unknown to the venue" in stored.reason


async def test_hedge_fills_adopt_into_separate_legs(store: Store, venue: FakeVenue) -> None:
    # OR7: a long and a short leg on one symbol stay apart
    store.record_intent(TENANT, order("long-1", S.ACCEPTED, position_side=PositionSide.LONG))
    store.record_intent(TENANT, order("short-1", S.ACCEPTED, side=OrderSide.SELL,
                                      position_side=PositionSide.SHORT))  # fmt: skip
    venue.orders += [
        venue_order("long-1", S.FILLED, filled="1", average="100"),
        venue_order("short-1", S.FILLED, filled="1", average="100", side=OrderSide.SELL),
    ]
    venue.fills += [fill("long-1", "t1"), fill("short-1", "t2", side=OrderSide.SELL)]
    venue.positions += [venue_leg(PositionSide.LONG, "1"), venue_leg(PositionSide.SHORT, "1")]
    report = await _reconciler(store, venue, ReconcilePolicy.ADOPT).run("start")
    assert {o.action for o in report.outcomes} == {HealAction.ADOPTED}
    legs = {(p.side, p.quantity) for p in store.positions(TENANT, BOT)}
    assert legs == {(PositionSide.LONG, Decimal(1)), (PositionSide.SHORT, Decimal(1))}


async def test_unexplained_position_drift_is_not_adoptable(store: Store, venue: FakeVenue) -> None:
    venue.positions.append(venue_leg(PositionSide.LONG, "4"))
    report = await _reconciler(store, venue, ReconcilePolicy.ADOPT).run("start")
    assert [(o.mismatch.kind, o.action) for o in report.outcomes] == [
        (K.POSITION_DRIFT, HealAction.NOT_ADOPTABLE)
    ]


async def test_adopt_records_the_venue_balance_without_raising_free_cash(
    store: Store, venue: FakeVenue
) -> None:
    store.record_balance(TENANT, "USDT", Decimal(1000), Decimal(400))
    venue.balances = {"USDT": Decimal("990.5")}
    report = await _reconciler(store, venue, ReconcilePolicy.ADOPT).run("start")
    assert [(o.mismatch.kind, o.action) for o in report.outcomes] == [
        (K.BALANCE_DRIFT, HealAction.ADOPTED)
    ]
    latest = store.balances(TENANT, "USDT")[-1]
    assert (latest.total, latest.free) == (Decimal("990.5"), Decimal(400))


async def test_failed_run_is_recorded_and_raised(store: Store, venue: FakeVenue) -> None:
    venue.fail = VenueError("fetch_orders BTC/USDT:USDT: HTTP 503")
    with pytest.raises(VenueError, match="503"):
        await _reconciler(store, venue, ReconcilePolicy.ADOPT).run("start")
    [run] = store.reconciliation_runs(TENANT, BOT)
    assert run.status == "failed"
    assert run.error is not None
    assert "503" in run.error


async def test_periodic_runs_until_stopped_and_survives_a_failed_run(
    store: Store, venue: FakeVenue
) -> None:
    stop = asyncio.Event()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        venue.fail = VenueError("down") if len(slept) == 2 else None
        if len(slept) == 4:
            stop.set()

    await _reconciler(store, venue, ReconcilePolicy.ADOPT).run_periodically(60.0, stop,
                                                                           sleep=sleep)  # fmt: skip
    assert slept == [60.0] * 4
    runs = store.reconciliation_runs(TENANT, BOT)
    assert [(r.trigger, r.status) for r in reversed(runs)] == [
        ("periodic", "clean"),
        ("periodic", "failed"),
        ("periodic", "clean"),
    ]


async def test_reconnect_trigger_is_recorded(store: Store, venue: FakeVenue) -> None:
    report = await _reconciler(store, venue, ReconcilePolicy.ALERT).on_stream_reconnect()
    assert report.trigger == "reconnect"
    assert store.reconciliation_runs(TENANT, BOT)[0].trigger == "reconnect"


async def test_resolve_pending_adopts_each_answer_by_the_documented_rules(
    store: Store, venue: FakeVenue
) -> None:
    cases: dict[str, OrderStatus] = {
        "new-unknown": S.NEW,
        "sub-unknown": S.SUBMITTED,
        "acc-unknown": S.ACCEPTED,
        "cxl-unknown": S.PENDING_CANCEL,
        "sub-filled": S.SUBMITTED,
        "new-open": S.NEW,
        "done": S.FILLED,
    }
    for cid, status in cases.items():
        store.record_intent(TENANT, order(cid, status, filled="1" if status is S.FILLED else "0"))
    venue.orders += [
        venue_order("sub-filled", S.FILLED, filled="1", average="100"),
        venue_order("new-open", S.ACCEPTED),
    ]
    venue.fills.append(fill("sub-filled", "t5"))
    results = await resolve_pending(cast(Venue, venue), store, TENANT, BOT, clock=Clock())
    assert {r.client_order_id: r.status for r in results} == {
        "new-unknown": S.REJECTED,
        "sub-unknown": S.REJECTED,
        "acc-unknown": S.EXPIRED,
        "cxl-unknown": S.CANCELLED,
        "sub-filled": S.FILLED,
        "new-open": S.ACCEPTED,
    }
    assert store.pending_orders(TENANT, BOT) == [store.get_order(TENANT, "new-open")]
    assert [(f.client_order_id, f.trade_id) for f in store.fills(TENANT, BOT)] == [
        ("sub-filled", "t5")
    ]
    [position] = store.positions(TENANT, BOT)
    assert position.quantity == Decimal(1)
    [run] = store.reconciliation_runs(TENANT, BOT)
    assert (run.trigger, run.mismatch_count) == ("recovery", 6)


async def test_adoption_of_an_order_recorded_since_the_run_read_the_store_is_idempotent(
    store: Store, venue: FakeVenue, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer records the foreign order between the run's read and its adoption."""
    venue.orders.append(venue_order("foreign-2", S.ACCEPTED, quantity="1", price="90"))
    reconciler = _reconciler(store, venue, ReconcilePolicy.ADOPT)
    original = store.orders
    reads: list[int] = []

    def stale_then_recorded(*args: Any, **kwargs: Any) -> Any:
        seen = original(*args, **kwargs)  # the run reads the store for its comparison ...
        reads.append(1)
        if len(reads) == 2:
            # ... and only then does someone else record the same order
            intent = order("foreign-2", S.SUBMITTED, quantity="1", price="90")
            store.record_intent(TENANT, intent)
        return seen

    monkeypatch.setattr(store, "orders", stale_then_recorded)
    report = await reconciler.run("periodic")
    assert report.count(K.MISSING_LOCALLY) == 1
    stored = store.get_order(TENANT, "foreign-2")
    assert stored is not None
    assert stored.status is S.ACCEPTED  # healed to the venue's truth, no duplicate-key crash


async def test_an_order_placed_while_the_venue_is_read_is_not_missing_locally(
    store: Store, venue: FakeVenue
) -> None:
    """The bot records its intent, then sends it, while a run is fetching venue state."""
    reconciler = _reconciler(store, venue, ReconcilePolicy.ALERT)
    fetch_orders = venue.fetch_orders

    async def trade_during_fetch(symbol: str, since_ms: int | None = None) -> list[VenueOrder]:
        if not any(o.client_order_id == "bot1.9" for o in venue.orders):
            store.record_intent(TENANT, order("bot1.9", S.SUBMITTED))  # OR2: intent first ...
            venue.orders.append(venue_order("bot1.9", S.ACCEPTED))  # ... then the wire
        return await fetch_orders(symbol, since_ms)

    venue.fetch_orders = trade_during_fetch  # type: ignore[method-assign]
    report = await reconciler.run("periodic")
    assert report.count(K.MISSING_LOCALLY) == 0


async def test_an_adopted_one_way_flip_writes_the_closed_and_the_opened_leg(
    store: Store, venue: FakeVenue
) -> None:
    # long 1 @100 (ours), then a sell of 3 @110 the stream missed: flat long, short 2
    store.record_intent(TENANT, order("long-1", S.ACCEPTED))
    venue.orders.append(venue_order("long-1", S.FILLED, filled="1", average="100"))
    venue.fills.append(fill("long-1", "t1", "1", "100"))
    venue.positions.append(venue_leg(PositionSide.LONG, "1"))
    await _reconciler(store, venue, ReconcilePolicy.ADOPT).run("start")
    store.record_intent(TENANT, order("flip-1", S.ACCEPTED, quantity="3", side=OrderSide.SELL))
    venue.orders.append(venue_order("flip-1", S.FILLED, quantity="3", filled="3", average="110",
                                    side=OrderSide.SELL))  # fmt: skip
    flip = fill("flip-1", "t2", "3", "110", side=OrderSide.SELL)
    venue.fills.append(flip)
    venue.positions[:] = [venue_leg(PositionSide.SHORT, "2", "110")]
    report = await _reconciler(store, venue, ReconcilePolicy.ADOPT).run("reconnect")
    assert {o.action for o in report.outcomes} == {HealAction.ADOPTED}
    legs = {p.side: p for p in store.positions(TENANT, BOT)}
    assert legs[PositionSide.LONG].quantity == 0
    assert legs[PositionSide.LONG].realised_pnl == Decimal(10)
    short = legs[PositionSide.SHORT]
    assert (short.quantity, short.average_entry_price) == (Decimal(2), Decimal(110))
    # the fee is shared pro rata: a third closes the long, two thirds open the short
    assert short.fees_paid == flip.fee * 2 / 3
    assert legs[PositionSide.LONG].fees_paid == Decimal("0.1") + flip.fee / 3
    # with one leg written the stale long would drift on every later run
    again = await _reconciler(store, venue, ReconcilePolicy.ADOPT).run("periodic")
    assert again.is_clean
