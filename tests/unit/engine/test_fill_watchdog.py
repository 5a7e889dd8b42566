"""FillWatchdog: the overdue rule, once per symbol per interval, recoveries and the restart.

Fakes only: an order book (dict), an order sync whose ``confirm`` applies a scripted venue
answer, a user stream that records restart requests, and a wall clock the test moves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from decimal import Decimal

import pytest
import structlog

from aegis.engine.watchdog import FillWatchdog, is_watched
from aegis.model import Order, OrderEventKind, OrderSide, OrderStatus, OrderType, OrderUpdate
from aegis.model.enums import TimeInForce
from aegis.model.errors import TransientVenueError

XRP, BTC = "XRP/USDT:USDT", "BTC/USDT:USDT"
INTERVAL_S = 5.0


def _order(coid: str, symbol: str = XRP, *, kind: OrderType = OrderType.MARKET,
           tif: TimeInForce = TimeInForce.GTC) -> Order:  # fmt: skip
    return Order(
        client_order_id=coid, bot_id="bot", symbol=symbol, side=OrderSide.BUY, type=kind,
        quantity=Decimal(10), price=None if kind is OrderType.MARKET else Decimal("1.1"),
        time_in_force=tif, status=OrderStatus.ACCEPTED, created_ns=1, updated_ns=1,
    )  # fmt: skip


def _filled(order: Order) -> Order:
    return order.replace(status=OrderStatus.FILLED, filled_quantity=order.quantity, updated_ns=9)


class Book:
    """The order manager's two views the watchdog reads.

    As in ``OrderManager``, ``open_orders`` keeps each order as it was submitted until it
    ends; ``orders`` has its current state.
    """

    def __init__(self, *orders: Order) -> None:
        self.all: dict[str, Order] = {}
        self.submitted: dict[str, Order] = {}
        for order in orders:
            self.add(order)

    def add(self, order: Order) -> None:
        self.all[order.client_order_id] = self.submitted[order.client_order_id] = order

    @property
    def open_orders(self) -> list[Order]:
        return [self.submitted[c] for c, o in self.all.items() if not o.status.is_terminal]

    @property
    def orders(self) -> Mapping[str, Order]:
        return self.all


class Sync:
    """``OrderSync.confirm`` double: applies ``venue[coid]`` (when scripted) to the book."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self.venue: dict[str, Callable[[Order], Order]] = {}
        self.calls: list[str] = []
        self.during: Callable[[], None] | None = None
        self.error: Exception | None = None

    async def confirm(self, symbol: str) -> None:
        self.calls.append(symbol)
        if self.during is not None:
            self.during()
        if self.error is not None:
            raise self.error
        for order in list(self.book.open_orders):
            answer = self.venue.get(order.client_order_id)
            if order.symbol == symbol and answer is not None:
                self.book.all[order.client_order_id] = answer(order)


class Stream:
    """The user stream supervisor's restart request and resync count."""

    def __init__(self) -> None:
        self.reasons: list[str] = []
        self.resyncs = 0

    def request_restart(self, reason: str) -> None:
        self.reasons.append(reason)


class Clock:
    def __init__(self) -> None:
        self.ms = 1_000_000

    def __call__(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += round(seconds * 1000)


def _watchdog(*orders: Order) -> tuple[FillWatchdog, Book, Sync, Stream, Clock, list[object]]:
    book, clock, stream = Book(*orders), Clock(), Stream()
    sync = Sync(book)
    counted: list[object] = []
    watchdog = FillWatchdog(book, sync, interval_s=INTERVAL_S, clock=clock, stream=stream,
                            on_recovery=counted.append)  # fmt: skip
    return watchdog, book, sync, stream, clock, counted


def test_only_market_ioc_and_fok_orders_are_watched() -> None:
    assert is_watched(_order("m"))
    assert is_watched(_order("i", kind=OrderType.LIMIT, tif=TimeInForce.IOC))
    assert is_watched(_order("f", kind=OrderType.LIMIT, tif=TimeInForce.FOK))
    assert not is_watched(_order("g", kind=OrderType.LIMIT))
    assert not is_watched(_order("p", kind=OrderType.LIMIT, tif=TimeInForce.POST_ONLY))


def test_an_order_is_overdue_once_its_state_is_unchanged_for_an_interval() -> None:
    watchdog, book, _, _, clock, _ = _watchdog(_order("m"), _order("g", kind=OrderType.LIMIT))
    assert watchdog.overdue(clock()) == {}  # first sight starts the clock
    clock.advance(INTERVAL_S - 0.001)
    assert watchdog.overdue(clock()) == {}
    clock.advance(0.001)
    found = watchdog.overdue(clock())
    assert [(o.client_order_id, age) for o, age in found[XRP]] == [("m", INTERVAL_S)]
    # any change of state (here a partial fill) starts the clock again
    book.all["m"] = book.all["m"].replace(filled_quantity=Decimal(3), updated_ns=2)
    assert watchdog.overdue(clock()) == {}
    clock.advance(INTERVAL_S)
    assert list(watchdog.overdue(clock())) == [XRP]


def test_timestamps_of_another_clock_do_not_make_an_order_overdue() -> None:
    # the order's own times are venue / candle times (history time in a paced replay): far in
    # the past against the wall clock, which alone must not make it overdue
    watchdog, _, _, _, clock, _ = _watchdog(_order("m"))
    clock.ms = 10**13
    assert watchdog.overdue(clock()) == {}


def test_finished_orders_are_forgotten() -> None:
    watchdog, book, _, _, clock, _ = _watchdog(_order("m"))
    watchdog.overdue(clock())
    book.all["m"] = _filled(book.all["m"])
    watchdog.overdue(clock())
    assert watchdog._seen == {}


async def test_a_lost_fill_is_recovered_counted_and_restarts_the_stream() -> None:
    watchdog, _, sync, stream, clock, counted = _watchdog(_order("m"), _order("b", BTC))
    sync.venue["m"] = _filled  # the venue filled it; the stream never said so
    with structlog.testing.capture_logs() as logs:
        assert await watchdog.check() == []  # first sight
        assert sync.calls == []
        clock.advance(INTERVAL_S)
        recoveries = await watchdog.check()
    assert sorted(sync.calls) == [BTC, XRP]  # one confirm per symbol with an overdue order
    assert [(r.client_order_id, r.symbol, r.status, r.overdue_s) for r in recoveries] == [
        ("m", XRP, OrderStatus.FILLED, INTERVAL_S)
    ]
    assert recoveries[0].filled_quantity == Decimal(10)
    assert watchdog.recoveries == 1
    assert counted == recoveries
    assert stream.reasons == ["watchdog"]  # once per pass
    warnings = [e for e in logs if e["event"] == "fill_recovered_by_watchdog"]
    assert len(warnings) == 1
    assert warnings[0]["log_level"] == "warning"
    assert warnings[0]["client_order_id"] == "m"
    assert warnings[0]["symbol"] == XRP
    assert warnings[0]["status"] == "filled"
    assert warnings[0]["overdue_s"] == INTERVAL_S


async def test_a_symbol_is_asked_at_most_once_per_interval() -> None:
    watchdog, _, sync, stream, clock, _ = _watchdog(_order("m"), _order("m2"))
    await watchdog.check()
    clock.advance(INTERVAL_S)
    await watchdog.check()
    assert sync.calls == [XRP]  # two overdue orders, one confirm for their symbol
    for _ in range(4):  # checks in quick succession ask nothing
        clock.advance(INTERVAL_S / 5 - 0.001)
        await watchdog.check()
    assert sync.calls == [XRP]
    clock.advance(1.004)  # exactly one interval after the first confirm
    await watchdog.check()
    assert sync.calls == [XRP, XRP]
    assert watchdog.recoveries == 0  # the venue still has them open: nothing recovered
    assert stream.reasons == []


async def test_an_update_the_stream_delivers_during_the_confirm_is_no_recovery() -> None:
    watchdog, book, sync, stream, clock, _ = _watchdog(_order("m"))

    def stream_delivers() -> None:
        book.all["m"] = _filled(book.all["m"])
        watchdog.note_applied([OrderUpdate("m", OrderEventKind.FILL, 9)])

    sync.during = stream_delivers
    await watchdog.check()
    clock.advance(INTERVAL_S)
    assert await watchdog.check() == []
    assert sync.calls == [XRP]
    assert stream.reasons == []
    watchdog.note_applied([OrderUpdate("x", OrderEventKind.FILL, 9)])  # outside a confirm
    assert watchdog._applied_elsewhere == {"m"}


async def test_a_resync_during_the_confirm_takes_the_credit() -> None:
    watchdog, _, sync, stream, clock, _ = _watchdog(_order("m"))
    sync.venue["m"] = _filled

    def resync() -> None:
        stream.resyncs += 1

    sync.during = resync
    await watchdog.check()
    clock.advance(INTERVAL_S)
    assert await watchdog.check() == []
    assert stream.reasons == []


async def test_a_failed_confirm_is_counted_and_asked_again_next_interval() -> None:
    watchdog, _, sync, _, clock, _ = _watchdog(_order("m"))
    sync.error = TransientVenueError("fetch_order XRP/USDT:USDT m: timeout")
    await watchdog.check()
    clock.advance(INTERVAL_S)
    with structlog.testing.capture_logs() as logs:
        assert await watchdog.check() == []
    assert watchdog.errors == 1
    assert [e["event"] for e in logs] == ["fill_watchdog_confirm_failed"]
    sync.error = None
    sync.venue["m"] = _filled
    clock.advance(INTERVAL_S)
    assert [r.client_order_id for r in await watchdog.check()] == ["m"]


async def test_run_checks_every_interval_and_never_early() -> None:
    clock = Clock()
    book = Book(_order("m"))
    sync = Sync(book)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        # the first pause of each round ends 1 ms early against the wall clock
        clock.advance(seconds - 0.001 if seconds == INTERVAL_S else seconds)
        if len(sync.calls) >= 2:
            raise asyncio.CancelledError
        await asyncio.sleep(0)

    watchdog = FillWatchdog(book, sync, interval_s=INTERVAL_S, clock=clock, sleep=sleep)
    with pytest.raises(asyncio.CancelledError):
        await watchdog.run()
    assert sync.calls == [XRP, XRP]  # one confirm per interval, none skipped
    assert slept[:2] == [INTERVAL_S, pytest.approx(0.001)]
    assert watchdog.checks == 3


def test_interval_must_be_positive() -> None:
    book = Book()
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="interval_s must be positive"):
            FillWatchdog(book, Sync(book), interval_s=bad, clock=Clock())


async def test_an_order_whose_submission_is_in_flight_is_neither_overdue_nor_recovered() -> None:
    # a slow submit: the confirm may learn its answer first, but the submit call delivers it
    book, clock, stream = Book(_order("m"), _order("x")), Clock(), Stream()
    sync = Sync(book)
    sync.venue["m"] = _filled
    in_flight = {"m"}
    watchdog = FillWatchdog(book, sync, interval_s=INTERVAL_S, clock=clock, stream=stream,
                            in_flight=in_flight)  # fmt: skip
    await watchdog.check()
    clock.advance(INTERVAL_S)
    assert await watchdog.check() == []
    assert sync.calls == [XRP]  # asked for "x", the one overdue order of the symbol
    assert book.all["m"].status is OrderStatus.FILLED  # applied, idempotently, but not credited
    assert watchdog.recoveries == 0
    assert stream.reasons == []
    in_flight.clear()
    book.add(_order("m2"))
    clock.advance(INTERVAL_S)
    await watchdog.check()  # first sight of m2 once its answer is in
    assert "m2" in watchdog._seen


async def test_the_current_state_counts_not_the_submitted_one() -> None:
    # the manager's open-order list still holds the SUBMITTED order after its acknowledgement:
    # a confirm that changes nothing is no recovery
    submitted = _order("m").replace(status=OrderStatus.SUBMITTED)
    watchdog, book, sync, stream, clock, _ = _watchdog(submitted)
    book.all["m"] = submitted.replace(status=OrderStatus.ACCEPTED, updated_ns=2)
    await watchdog.check()
    clock.advance(INTERVAL_S)
    assert await watchdog.check() == []
    assert sync.calls == [XRP]
    assert watchdog.confirms == 1
    assert stream.reasons == []
