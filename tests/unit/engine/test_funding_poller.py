"""The runtime's funding booking (OR3): dedupe by the venue's id, restart, catch-up, schedule."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

import pytest

from aegis.engine.funding import FundingBook, PositionHistory, stored_from_venue
from aegis.engine.funding_poller import FundingPoller, LiveFundingSource
from aegis.model.enums import LiquidityRole, OrderSide, PositionMode, PositionSide
from aegis.model.errors import VenueError
from aegis.model.events import Fill
from aegis.model.instrument import Instrument
from aegis.model.portfolio import Portfolio
from aegis.store import FundingLedger, Store, StoredFunding
from aegis.venues.base import VenueFundingPayment, VenueFundingRate

SYMBOL = "XRP/USDT:USDT"
HOUR_MS = 3_600_000
T1, T2, T3 = 8 * HOUR_MS, 16 * HOUR_MS, 24 * HOUR_MS
INSTRUMENT = Instrument.permissive(SYMBOL)


def payment(payment_id: str, ts_ms: int, amount: str, asset: str = "USDT") -> VenueFundingPayment:
    return VenueFundingPayment(
        payment_id=payment_id, symbol=SYMBOL, asset=asset, amount=Decimal(amount), ts_ms=ts_ms
    )


def fill(
    ts_ms: int, side: OrderSide, quantity: str, trade_id: str, leg: PositionSide | None = None
) -> Fill:
    return Fill(f"bot1.{trade_id}", SYMBOL, side, Decimal("1.0"), Decimal(quantity), Decimal(0),
                "USDT", LiquidityRole.TAKER, ts_ms * 1_000_000, trade_id, leg)  # fmt: skip


class FakeFundingVenue:
    """The exchange's funding records, as ``CcxtVenue`` returns them (no I/O)."""

    def __init__(self, payments: Sequence[VenueFundingPayment] = ()) -> None:
        self.payments = list(payments)
        self.since: list[int | None] = []
        self.next_ms: int | None = T1
        self.fail: VenueError | None = None

    async def fetch_funding_payments(
        self, symbol: str, since_ms: int | None = None
    ) -> list[VenueFundingPayment]:
        self.since.append(since_ms)
        if self.fail is not None:
            raise self.fail
        return [p for p in self.payments if since_ms is None or p.ts_ms >= since_ms]

    async def fetch_funding_rate(self, symbol: str) -> VenueFundingRate:
        return VenueFundingRate(symbol=symbol, rate=Decimal("0.0001"),
                                next_funding_ms=self.next_ms)  # fmt: skip


def new_book(ledger: FundingLedger | None = None) -> FundingBook:
    portfolio = Portfolio({"USDT": Decimal(1000)}, PositionMode.ONE_WAY)
    portfolio.apply_fill(fill(1, OrderSide.BUY, "100", "1"), INSTRUMENT)
    return FundingBook(portfolio, {SYMBOL: INSTRUMENT}, tenant="t1", bot_id="bot1",
                       ledger=ledger, clock_ns=lambda: 7)  # fmt: skip


def metric(book: FundingBook, name: str, **labels: str) -> float | None:
    return book.metrics.registry.get_sample_value(name, labels)


def poller_for(
    venue: FakeFundingVenue, book: FundingBook, history: PositionHistory | None = None
) -> FundingPoller:
    async def never(symbol: str, funding_ms: int, timeout_s: float) -> bool:
        return False

    if history is None:
        history = PositionHistory([fill(1, OrderSide.BUY, "100", "1")], [])
    return FundingPoller(LiveFundingSource(venue), book, [SYMBOL], wait_past=never,
                         clock_ms=lambda: 0, history=history)  # fmt: skip


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[FundingLedger]:
    store = Store(f"sqlite:///{tmp_path / 'funding.db'}")
    store.upgrade()
    yield FundingLedger(store)
    store.close()


async def test_a_payment_seen_twice_is_booked_once() -> None:
    venue = FakeFundingVenue([payment("11", T1 + 17, "-0.5")])
    book = new_book()
    poller = poller_for(venue, book)
    assert await poller.catch_up("start") == 1
    assert await poller.catch_up("reconnect") == 0
    assert book.portfolio.funding_paid == Decimal("0.5")
    assert book.portfolio.cash["USDT"] == Decimal("999.5")
    assert metric(book, "aegis_funding_duplicates_total") == 1  # the second sighting


async def test_catch_up_asks_from_the_last_booked_payment_on() -> None:
    venue = FakeFundingVenue([payment("11", T1, "-0.5"), payment("12", T2, "0.25")])
    book = new_book()
    poller = poller_for(venue, book)
    await poller.catch_up("start")
    venue.payments.append(payment("13", T3, "-0.1"))
    assert await poller.catch_up("periodic") == 1
    assert venue.since == [1, T2]  # first: from the bot's first fill; then: the last booked
    assert [b.payment_id for b in book.booked] == ["11", "12", "13"]


async def test_restart_restores_booked_ids_and_books_only_the_missed_ones(
    ledger: FundingLedger,
) -> None:
    venue = FakeFundingVenue([payment("11", T1, "-0.5")])
    first = new_book(ledger)
    await poller_for(venue, first).catch_up("funding_time")
    # down while the exchange settled T2; the restart reads the store, then catches up
    venue.payments.append(payment("12", T2, "-0.25"))
    second = new_book(ledger)
    assert second.restore(ledger.payments("t1", "bot1")) == 1
    poller = poller_for(venue, second)
    assert await poller.catch_up("start") == 1
    assert venue.since[-1] == T1
    assert [s.payment_id for s in ledger.payments("t1", "bot1")] == ["11", "12"]
    assert second.portfolio.funding_paid == Decimal("0.75")
    assert ledger.last_booked_ms("t1", "bot1", SYMBOL) == T2


def test_the_store_keeps_a_payment_once_whatever_the_caller_does(ledger: FundingLedger) -> None:
    booked = stored_from_venue(payment("11", T1, "-0.5"))
    assert ledger.record("t1", "bot1", booked, now_ns=1) is True
    assert ledger.record("t1", "bot1", booked, now_ns=2) is False
    (stored,) = ledger.payments("t1", "bot1")
    assert (stored.payment_id, stored.payment.amount, stored.has_rate) == (
        "11",
        Decimal("-0.5"),
        False,
    )


async def test_a_payment_for_a_time_the_bot_was_flat_is_not_its_own() -> None:
    venue = FakeFundingVenue([payment("9", 0, "-1"), payment("11", T1, "-0.5")])
    book = new_book()
    history = PositionHistory(
        [fill(1000, OrderSide.BUY, "100", "1"), fill(T1 - 1000, OrderSide.SELL, "100", "2")], []
    )
    assert await poller_for(venue, book, history).catch_up("start") == 0
    assert book.booked == []


async def test_a_bot_that_never_traded_the_symbol_makes_no_call() -> None:
    venue = FakeFundingVenue([payment("11", T1, "-0.5")])
    assert await poller_for(venue, new_book(), PositionHistory([], [])).catch_up("start") == 0
    assert venue.since == []


async def test_a_venue_error_is_counted_and_the_next_poll_asks_again() -> None:
    venue = FakeFundingVenue([payment("11", T1, "-0.5")])
    venue.fail = VenueError("fetch_funding_history XRP/USDT:USDT: 503")
    book = new_book()
    poller = poller_for(venue, book)
    assert await poller.catch_up("start") == 0
    venue.fail = None
    assert await poller.catch_up("periodic") == 1
    assert metric(book, "aegis_funding_poll_errors_total") == 1
    assert metric(book, "aegis_funding_payments_total", symbol=SYMBOL) == 1


def test_a_payment_in_another_currency_is_refused_naming_it() -> None:
    book = new_book()
    with pytest.raises(ValueError, match=r"payment 11 of XRP/USDT:USDT: asset 'BNB'"):
        book.book(stored_from_venue(payment("11", T1, "-0.5", asset="BNB")), source="test")
    assert book.portfolio.funding_paid == 0


async def test_after_each_funding_time_it_polls_and_retries_until_the_payment_is_listed() -> None:
    venue = FakeFundingVenue()
    book = new_book()
    stop = asyncio.Event()
    delays: list[float] = []

    async def past(symbol: str, funding_ms: int, timeout_s: float) -> bool:
        if funding_ms > T1:
            stop.set()  # the next funding time: the test is over
            return False
        return True

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 2:  # the exchange lists it after the second pause
            venue.payments.append(payment("11", T1 + 17, "-0.5"))

    history = PositionHistory([fill(1, OrderSide.BUY, "100", "1")], [])
    poller = FundingPoller(LiveFundingSource(venue), book, [SYMBOL], wait_past=past,
                           clock_ms=lambda: 0, history=history, retry_delays_s=(1.0, 2.0, 3.0),
                           sleep=sleep)  # fmt: skip
    await asyncio.wait_for(poller.run(stop), 5)
    assert delays == [1.0, 2.0]
    assert [b.payment_id for b in book.booked] == ["11"]
    assert poller.next_funding[SYMBOL] == T1 + 8 * HOUR_MS  # the stale answer moved on


def test_restored_payments_are_not_booked_again() -> None:
    book = new_book()
    stored = StoredFunding("11", "USDT", stored_from_venue(payment("11", T1, "-0.5")).payment)
    assert book.restore([stored, stored]) == 1
    assert book.book(stored, source="start") is False
    assert book.portfolio.funding_paid == Decimal("0.5")
    assert book.last_booked_ms(SYMBOL) == T1


def test_a_hedged_pair_with_zero_net_still_holds_positions() -> None:
    one_way = PositionHistory(
        [fill(1000, OrderSide.BUY, "5", "1"), fill(2000, OrderSide.SELL, "5", "2")], []
    )
    assert not one_way.holds_at(SYMBOL, T1)  # one-way: the sell closed the long
    hedged = PositionHistory(
        [
            fill(1000, OrderSide.BUY, "5", "1", PositionSide.LONG),
            fill(2000, OrderSide.SELL, "5", "2", PositionSide.SHORT),
        ],
        [],
    )
    assert hedged.holds_at(SYMBOL, T1)
    assert not hedged.holds_at(SYMBOL, 1)  # before the first fill
