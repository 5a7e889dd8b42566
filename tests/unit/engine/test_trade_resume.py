"""A restart resumes an open round trip exactly: every funding payment and every exit counts.

Before revision 0004 the tracker rebuilt a restored trade's baseline from its stored pnl and
fees: on a leg with earlier trips the funding settled between the trade's last write and the
restart went to the earlier trips, and the exit average forgot the exits before the restart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

import pytest

from aegis.backtest import build_round_trips
from aegis.engine.journal import DurableJournal
from aegis.engine.record import TradeTracker
from aegis.execution.reconcile import PositionBook
from aegis.model import (
    Fill,
    FundingPayment,
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
from aegis.store import FundingLedger, Store, StoredFunding, TradeRecord

SYMBOL = "BTC/USDT:USDT"
TENANT, BOT = "t1", "bot1"
SHORT = PositionSide.SHORT
BUY, SELL = OrderSide.BUY, OrderSide.SELL
INSTRUMENTS = {SYMBOL: Instrument.permissive(SYMBOL, quote="USDT")}
SECOND = 1_000_000_000
D = Decimal


def _fill(cid: str, side: OrderSide, quantity: str, price: str, fee: str, second: int) -> Fill:
    return Fill(
        cid, SYMBOL, side, D(price), D(quantity), D(fee), "USDT", LiquidityRole.TAKER,
        second * SECOND, f"trade-{cid}",
    )  # fmt: skip


@dataclass
class _Live:
    """A bot's legs, its tracker and what the store would hold (last record per trade id)."""

    book: PositionBook = field(default_factory=lambda: PositionBook([], INSTRUMENTS))
    tracker: TradeTracker = field(default_factory=lambda: TradeTracker(BOT))
    stored: dict[str, TradeRecord] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    funding: list[FundingPayment] = field(default_factory=list)

    def trade(
        self, cid: str, side: OrderSide, quantity: str, price: str, fee: str, second: int
    ) -> TradeRecord:
        fill = _fill(cid, side, quantity, price, fee, second)
        before = {leg.side: leg for leg in self.book.legs()}
        after = self.book.apply(fill)
        record = self.tracker.on_fill(fill, before.get(after.side), after)
        self.stored[record.trade_id] = record
        self.fills.append(fill)
        return record

    def settle_funding(self, amount: str, second: int) -> None:
        """Book a payment on the open short leg, as FundingBook does (the store's leg too)."""
        legs = self.book.legs()
        for leg in legs:
            if leg.side is SHORT and leg.quantity:
                leg.funding_received += D(amount)
        self.book = PositionBook(legs, INSTRUMENTS)
        # stamped a few ms after the funding time, as the exchange does
        self.funding.append(FundingPayment(SYMBOL, D(0), D(0), D(amount), second * SECOND + 5))

    def short_leg(self) -> Position:
        [leg] = [leg for leg in self.book.legs() if leg.side is SHORT]
        return leg

    def restart(self, *, strip_resume_columns: bool = False) -> None:
        """A new tracker from the stored open trades and the stored legs (as recovery does)."""
        open_trades = [t for t in self.stored.values() if t.is_open]
        if strip_resume_columns:  # a row written before revision 0004
            open_trades = [
                replace(
                    t,
                    leg_net_at_open=None,
                    leg_fees_at_open=None,
                    exited_quantity=None,
                    exit_notional=None,
                )
                for t in open_trades
            ]
        self.book = PositionBook(self.book.legs(), INSTRUMENTS)
        self.tracker = TradeTracker(BOT, open_trades)
        self.tracker.resume(self.book.legs())


def _earlier_trip(live: _Live) -> None:
    live.trade("s1", SELL, "1", "120", "0.1", 1)
    live.settle_funding("0.7", 2)
    live.trade("b1", BUY, "1", "100", "0.1", 3)  # short leg: realised 20, fees 0.2, funding 0.7


def _trip_across_a_restart(live: _Live, *, strip_resume_columns: bool = False) -> TradeRecord:
    """Short 4 at 110, funding, exit 1 at 100, funding, restart, funding, exit 3 at 104."""
    live.trade("s2", SELL, "4", "110", "0.4", 10)
    live.settle_funding("1.5", 11)
    partial = live.trade("b2", BUY, "1", "100", "0.1", 12)
    assert (partial.is_open, partial.exit_price, partial.exit_ts_ns) == (True, None, None)
    assert (partial.exited_quantity, partial.exit_notional) == (D(1), D(100))
    live.settle_funding("-0.25", 13)  # after the trade's last write, before the restart
    live.restart(strip_resume_columns=strip_resume_columns)
    live.settle_funding("0.5", 14)
    return live.trade("b3", BUY, "3", "104", "0.3", 15)


@pytest.mark.parametrize("history", [True, False], ids=["leg with an earlier trip", "fresh leg"])
def test_a_restarted_trade_counts_every_funding_payment_and_every_exit(history: bool) -> None:
    live = _Live()
    if history:
        _earlier_trip(live)
    net_at_open = live.short_leg().net_realised_pnl if history else D(0)
    closed = _trip_across_a_restart(live)
    assert (closed.trade_id, closed.is_open, closed.exit_ts_ns) == ("s2:short", False, 15 * SECOND)
    # trading 10 + 18, fees 0.4 + 0.1 + 0.3, funding 1.5 - 0.25 + 0.5
    assert (closed.pnl, closed.fees) == (D("28.95"), D("0.8"))
    assert closed.pnl == live.short_leg().net_realised_pnl - net_at_open
    assert closed.exit_price == (1 * D(100) + 3 * D(104)) / 4 == D(103)
    assert (closed.entry_price, closed.quantity) == (D(110), D(4))
    assert (closed.leg_net_at_open, closed.exited_quantity, closed.exit_notional) == (
        net_at_open, D(4), D(412),
    )  # fmt: skip
    # the closed trips agree with the backtest's round trips of the same fills and funding
    trips = build_round_trips(live.fills, {SYMBOL: D(104)}, {}, live.funding)
    stored = sorted((t for t in live.stored.values() if not t.is_open), key=lambda t: t.entry_ts_ns)
    assert [(t.entry_price, t.exit_price, t.quantity, t.pnl, t.fees) for t in stored] == [
        (t.entry_price, t.exit_price, t.quantity, t.pnl, t.fees) for t in trips
    ]


def test_the_open_record_carries_the_leg_baseline_and_the_exits_so_far() -> None:
    live = _Live()
    _earlier_trip(live)
    live.trade("s2", SELL, "4", "110", "0.4", 10)
    partial = live.trade("b2", BUY, "1", "100", "0.1", 12)
    # the leg realised 20, paid 0.2 and received 0.7 before the trade opened
    assert (partial.leg_net_at_open, partial.leg_fees_at_open) == (D("20.5"), D("0.2"))
    assert (partial.exited_quantity, partial.exit_notional, partial.exit_price) == (
        D(1), D(100), None,
    )  # fmt: skip
    assert (partial.pnl, partial.fees) == (D("9.5"), D("0.5"))


@pytest.mark.parametrize(
    ("history", "pnl"),
    # leg with an earlier trip: the -0.25 settled before the restart stays with that trip
    [(True, D("29.2")), (False, D("28.95"))],
    ids=["leg with an earlier trip", "fresh leg"],
)
def test_a_row_written_before_revision_0004_resumes_as_before(history: bool, pnl: Decimal) -> None:
    live = _Live()
    if history:
        _earlier_trip(live)
    closed = _trip_across_a_restart(live, strip_resume_columns=True)
    assert (closed.pnl, closed.fees) == (pnl, D("0.8"))
    assert closed.exit_price == D(104)  # only the exit seen since the restart
    assert (closed.exited_quantity, closed.exit_notional) == (D(3), D(312))


# ----------------------------------------------------------------- through the journal and store
@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'resume.db'}")
    opened.upgrade()
    yield opened
    opened.close()


def _journal_trade(
    journal: DurableJournal, cid: str, side: OrderSide, quantity: str, price: str, fee: str,
    second: int,
) -> Fill:  # fmt: skip
    ts_ns = second * SECOND
    order = Order(
        client_order_id=cid, bot_id=BOT, symbol=SYMBOL, side=side, type=OrderType.MARKET,
        quantity=D(quantity), price=None, status=OrderStatus.ACCEPTED, created_ns=ts_ns,
        updated_ns=ts_ns,
    )  # fmt: skip
    journal.write_intent(order)
    fill = _fill(cid, side, quantity, price, fee, second)
    update = OrderUpdate(cid, OrderEventKind.FILL, ts_ns, fill)
    journal.record_update(order.apply(update), update)
    return fill


def _book_funding(store: Store, journal: DurableJournal, amount: str, second: int) -> None:
    """Book a payment on the open short leg in the store and in the journal's book."""
    legs = journal.book.legs()
    for leg in legs:
        if leg.side is SHORT and leg.quantity:
            leg.funding_received += D(amount)
    payment = FundingPayment(SYMBOL, D(0), D(0), D(amount), second * SECOND)
    booked = StoredFunding(f"f{second}", "USDT", payment)
    assert FundingLedger(store).record(TENANT, BOT, booked, legs=legs, now_ns=second * SECOND)
    journal.book = PositionBook(legs, INSTRUMENTS)


def test_a_restart_through_the_store_resumes_the_trade_exactly(store: Store) -> None:
    journal = DurableJournal(store, TENANT, BOT, INSTRUMENTS)
    _journal_trade(journal, "s1", SELL, "1", "120", "0.1", 1)
    _journal_trade(journal, "b1", BUY, "1", "100", "0.1", 3)  # an earlier trip on the leg
    _journal_trade(journal, "s2", SELL, "4", "110", "0.4", 10)
    _book_funding(store, journal, "1.5", 11)
    _journal_trade(journal, "b2", BUY, "1", "100", "0.1", 12)
    _book_funding(store, journal, "-0.25", 13)  # the trade's row does not see it
    # a restart, as recovery builds it: the book from the stored legs, then the open trips
    restarted = DurableJournal(store, TENANT, BOT, INSTRUMENTS)
    restarted.book = PositionBook(store.positions(TENANT, BOT), INSTRUMENTS)
    restarted.trades = TradeTracker(BOT, store.trades(TENANT, BOT, is_open=True))
    _book_funding(store, restarted, "0.5", 14)
    _journal_trade(restarted, "b3", BUY, "3", "104", "0.3", 15)
    trips = {t.trade_id: t for t in store.trades(TENANT, BOT)}
    closed = trips["s2:short"]
    assert (closed.is_open, closed.pnl, closed.fees) == (False, D("28.95"), D("0.8"))
    assert (closed.entry_price, closed.exit_price, closed.quantity) == (D(110), D(103), D(4))
