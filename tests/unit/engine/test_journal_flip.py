"""A one-way fill through zero is journaled as two legs and two round trips, in one transaction.

Before the fix the journal wrote only the opened leg: the closed leg stayed stale in the store
(long 1 after long 1 -> short 2), the opened leg carried the whole fee, and the closed round
trip stayed open forever.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from aegis.backtest import build_round_trips
from aegis.engine.journal import DurableJournal
from aegis.engine.record import TradeTracker
from aegis.execution.reconcile import PositionBook, split_one_way_flip
from aegis.model import (
    Fill,
    Instrument,
    LiquidityRole,
    Order,
    OrderEventKind,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    PositionSide,
)
from aegis.store import Store, TradeRecord

SYMBOL = "BTC/USDT:USDT"
TENANT, BOT = "t1", "bot1"
LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
BUY, SELL = OrderSide.BUY, OrderSide.SELL
INSTRUMENTS = {SYMBOL: Instrument.permissive(SYMBOL, quote="USDT")}


class InjectedFailure(RuntimeError):
    """Raised by the store's fault hook."""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'journal.db'}")
    opened.upgrade()
    yield opened
    opened.close()


def _fill(cid: str, side: OrderSide, quantity: str, price: str, fee: str, ts_ns: int) -> Fill:
    return Fill(
        cid, SYMBOL, side, Decimal(price), Decimal(quantity), Decimal(fee), "USDT",
        LiquidityRole.TAKER, ts_ns, f"trade-{cid}",
    )  # fmt: skip


def _trade(
    journal: DurableJournal, cid: str, side: OrderSide, quantity: str, price: str, fee: str,
    ts_ns: int,
) -> Fill:  # fmt: skip
    """Record a market order's intent and its one fill through the journal; return the fill."""
    order = Order(
        client_order_id=cid, bot_id=BOT, symbol=SYMBOL, side=side, type=OrderType.MARKET,
        quantity=Decimal(quantity), price=None, status=OrderStatus.ACCEPTED, created_ns=ts_ns,
        updated_ns=ts_ns,
    )  # fmt: skip
    journal.write_intent(order)
    fill = _fill(cid, side, quantity, price, fee, ts_ns)
    update = OrderUpdate(cid, OrderEventKind.FILL, ts_ns, fill)
    journal.record_update(order.apply(update), update)
    return fill


def _legs(store: Store) -> dict[PositionSide, Position]:
    return {leg.side: leg for leg in store.positions(TENANT, BOT)}


def test_a_flip_stores_the_closed_leg_flat_and_the_opened_leg_at_the_fill_price(
    store: Store,
) -> None:
    journal = DurableJournal(store, TENANT, BOT, INSTRUMENTS)
    _trade(journal, "b1", BUY, "1", "100", "0.1", 1)
    _trade(journal, "s3", SELL, "3", "110", "0.3", 2)  # long 1 -> short 2
    legs = _legs(store)
    # the closed leg: flat, its realised PnL booked, its share (1/3) of the flip's fee added
    assert legs[LONG].quantity == 0
    assert legs[LONG].average_entry_price == 0
    assert legs[LONG].realised_pnl == Decimal(10)
    assert legs[LONG].fees_paid == Decimal("0.2")
    assert legs[LONG].net_realised_pnl == Decimal("9.8")
    # the opened leg: the remainder at the fill price, the rest of the fee
    assert (legs[SHORT].quantity, legs[SHORT].average_entry_price) == (Decimal(2), Decimal(110))
    assert (legs[SHORT].realised_pnl, legs[SHORT].fees_paid) == (Decimal(0), Decimal("0.2"))
    # the store holds what the journal's book holds
    assert sorted(store.positions(TENANT, BOT), key=lambda p: p.side) == sorted(
        journal.book.legs(), key=lambda p: p.side
    )


def test_a_flip_closes_the_round_trip_and_opens_the_next_like_the_backtest(
    store: Store,
) -> None:
    closed: list[TradeRecord] = []
    journal = DurableJournal(store, TENANT, BOT, INSTRUMENTS, on_round_trip=closed.append)
    fills = [
        _trade(journal, "b1", BUY, "1", "100", "0.1", 1_000_000),
        _trade(journal, "s3", SELL, "3", "110", "0.3", 2_000_000),  # flips to short 2
    ]
    first, second = store.trades(TENANT, BOT)
    assert (first.trade_id, first.is_open, first.exit_ts_ns) == ("b1:long", False, 2_000_000)
    assert (first.pnl, first.fees, first.exit_price) == (
        Decimal("9.8"),
        Decimal("0.2"),
        Decimal(110),
    )
    assert closed == [first]  # the risk engine hears of the closed trip once
    assert (second.trade_id, second.side, second.is_open) == ("s3:short", SHORT, True)
    assert (second.entry_price, second.quantity, second.entry_ts_ns) == (
        Decimal(110),
        Decimal(2),
        2_000_000,
    )
    assert (second.fees, second.pnl) == (Decimal("0.2"), Decimal("-0.2"))
    fills.append(_trade(journal, "b2", BUY, "2", "105", "0.2", 3_000_000))  # closes the short
    fills.append(_trade(journal, "b4", BUY, "1", "99", "0.1", 4_000_000))  # long again
    fills.append(_trade(journal, "s5", SELL, "4", "101", "0.4", 5_000_000))  # flips again
    stored = [t for t in store.trades(TENANT, BOT) if not t.is_open]
    expected = [t for t in build_round_trips(fills, {SYMBOL: Decimal(101)}, {}) if not t.is_open]
    # live stored trades and backtest round trips agree on every closed trip
    assert [(t.side, t.entry_ts_ns // 1_000_000, t.exit_ts_ns) for t in stored] == [
        (t.side, t.entry_ts_ms, t.exit_ts_ms and t.exit_ts_ms * 1_000_000) for t in expected
    ]
    assert [(t.entry_price, t.exit_price, t.quantity, t.pnl, t.fees) for t in stored] == [
        (t.entry_price, t.exit_price, t.quantity, t.pnl, t.fees) for t in expected
    ]
    assert closed == stored
    [still_open] = store.trades(TENANT, BOT, is_open=True)
    [trip] = [t for t in build_round_trips(fills, {SYMBOL: Decimal(101)}, {}) if t.is_open]
    assert (still_open.side, still_open.entry_price, still_open.quantity, still_open.fees) == (
        trip.side, trip.entry_price, trip.quantity, trip.fees,
    )  # fmt: skip


def test_a_trade_on_a_leg_with_history_counts_only_its_own_pnl_and_fees(store: Store) -> None:
    journal = DurableJournal(store, TENANT, BOT, INSTRUMENTS)
    _trade(journal, "b1", BUY, "1", "100", "0.1", 1)
    _trade(journal, "s1", SELL, "1", "110", "0.1", 2)
    _trade(journal, "b2", BUY, "1", "100", "0.1", 3)  # the long leg already realised 10
    [reopened] = store.trades(TENANT, BOT, is_open=True)
    assert (reopened.trade_id, reopened.fees, reopened.pnl) == (
        "b2:long",
        Decimal("0.1"),
        Decimal("-0.1"),
    )


def test_both_legs_and_both_trips_of_a_flip_are_one_transaction(
    store: Store, tmp_path: Path
) -> None:
    positions_written: list[str] = []

    def fail_at_second_leg(stage: str) -> None:
        if stage == "position":
            positions_written.append(stage)
            if len(positions_written) == 3:  # the entry wrote one leg, the flip's second leg
                raise InjectedFailure("between the two legs of the flip")

    faulty = Store(f"sqlite:///{tmp_path / 'journal.db'}", fault_hook=fail_at_second_leg)
    try:
        journal = DurableJournal(faulty, TENANT, BOT, INSTRUMENTS)
        _trade(journal, "b1", BUY, "1", "100", "0.1", 1)
        before = (store.positions(TENANT, BOT), store.trades(TENANT, BOT), store.fills(TENANT))
        with pytest.raises(InjectedFailure):
            _trade(journal, "s3", SELL, "3", "110", "0.3", 2)
    finally:
        faulty.close()
    assert (store.positions(TENANT, BOT), store.trades(TENANT, BOT), store.fills(TENANT)) == before
    order = store.get_order(TENANT, "s3")
    assert order is not None
    assert order.status is OrderStatus.ACCEPTED  # the intent only: the update was not written


def test_split_one_way_flip_shares_the_fee_like_the_portfolio() -> None:
    held = [Position(SYMBOL, LONG, Decimal(1), Decimal(100))]
    fill = _fill("s3", SELL, "3", "110", "0.3", 2)
    closing, opening = split_one_way_flip(fill, held)
    assert (closing.quantity, closing.fee) == (Decimal(1), Decimal("0.1"))
    assert (opening.quantity, opening.fee) == (Decimal(2), Decimal("0.2"))
    assert closing.fee + opening.fee == fill.fee
    assert (closing.trade_id, opening.price) == (fill.trade_id, fill.price)


@pytest.mark.parametrize(
    ("fill_quantity", "position_side"),
    [("1", None), ("0.5", None), ("3", SHORT)],
    ids=["exact close", "partial close", "hedge-mode fill"],
)
def test_split_one_way_flip_leaves_other_fills_whole(
    fill_quantity: str, position_side: PositionSide | None
) -> None:
    held = [Position(SYMBOL, LONG, Decimal(1), Decimal(100))]
    fill = replace(_fill("s", SELL, fill_quantity, "110", "0.1", 2), position_side=position_side)
    assert split_one_way_flip(fill, held) == (fill,)
    assert split_one_way_flip(fill, []) == (fill,)


def test_a_restored_open_trade_closes_with_its_own_pnl_on_a_leg_with_history() -> None:
    # the short leg realised 50 (net 48) in earlier trips; the open trip paid 0.2 so far
    restored_leg = Position(SYMBOL, SHORT, Decimal(2), Decimal(110), Decimal(50), Decimal("2.2"))
    open_trade = TradeRecord(
        "s3:short", BOT, SYMBOL, SHORT, 2, Decimal(110), Decimal(2), Decimal("-0.2"),
        Decimal("0.2"), True,
    )  # fmt: skip
    tracker = TradeTracker(BOT, [open_trade])
    after = replace(restored_leg, quantity=Decimal(0), average_entry_price=Decimal(0))
    after.realised_pnl += Decimal(10)
    after.fees_paid += Decimal("0.2")
    trade = tracker.on_fill(_fill("b2", BUY, "2", "105", "0.2", 3), restored_leg, after)
    assert (trade.trade_id, trade.is_open, trade.entry_ts_ns) == ("s3:short", False, 2)
    assert (trade.pnl, trade.fees) == (Decimal("9.6"), Decimal("0.4"))
    assert (trade.entry_price, trade.exit_price, trade.quantity) == (
        Decimal(110), Decimal(105), Decimal(2),
    )  # fmt: skip


def test_a_restart_resumes_the_open_trip_with_funding_settled_before_its_next_fill(
    store: Store,
) -> None:
    journal = DurableJournal(store, TENANT, BOT, INSTRUMENTS)
    _trade(journal, "s1", SELL, "1", "120", "0.1", 1)
    _trade(journal, "b1", BUY, "1", "100", "0.1", 2)  # the short leg realised 20 before
    _trade(journal, "b2", BUY, "1", "100", "0.1", 3)
    _trade(journal, "s3", SELL, "3", "110", "0.3", 4)  # flips: long closed, short 2 opened
    # a restart, as recovery builds it: the book from the stored legs, then the open trips
    restarted = DurableJournal(store, TENANT, BOT, INSTRUMENTS)
    restarted.book = PositionBook(store.positions(TENANT, BOT), INSTRUMENTS)
    restarted.trades = TradeTracker(BOT, store.trades(TENANT, BOT, is_open=True))
    # a funding payment after the restart, shared to the leg as FundingBook does
    legs = restarted.book.legs()
    for leg in legs:
        if leg.quantity:
            leg.funding_received += Decimal("1.5")
    restarted.book = PositionBook(legs, INSTRUMENTS)
    _trade(restarted, "b4", BUY, "2", "105", "0.2", 5)
    trips = {t.trade_id: t for t in store.trades(TENANT, BOT)}
    short = trips["s3:short"]
    assert (short.is_open, short.entry_price, short.exit_price, short.quantity) == (
        False, Decimal(110), Decimal(105), Decimal(2),
    )  # fmt: skip
    # its own trading PnL (10), fees (0.2 of the flip + 0.2) and funding (1.5); not the 19.8
    # the short leg made in the earlier trip
    assert (short.pnl, short.fees) == (Decimal("11.1"), Decimal("0.4"))


def test_a_fill_the_store_already_holds_moves_the_book_until_the_legs_are_reloaded(
    store: Store,
) -> None:
    # Reconciliation stored the fill first; the process applies it afterwards: the store
    # refuses it as a duplicate, but the journal's book had moved (what heal_process reloads).
    from aegis.engine.durable import Durability

    journal = DurableJournal(store, TENANT, BOT, INSTRUMENTS)
    fill = _trade(journal, "b1", BUY, "1", "100", "0.1", 1)
    order = store.get_order(TENANT, "b1")
    assert order is not None
    again = OrderUpdate("b1", OrderEventKind.FILL, 2, fill)
    journal.record_update(order, again)  # DuplicateFill in the store, counted as applied
    assert journal.book.legs()[0].quantity == 2  # the book counted it twice
    durability = Durability.__new__(Durability)
    durability.journal = journal  # its tenant and bot are the journal's
    durability.reload_positions(INSTRUMENTS)
    assert [(leg.side, leg.quantity) for leg in journal.book.legs()] == [(LONG, Decimal(1))]
