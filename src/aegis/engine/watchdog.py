"""Fill watchdog: ask the venue by REST about orders whose outcome should have arrived (live).

In live mode fills come from the exchange's user-data stream. A stream can lose events without
closing: an exception inside ccxt.pro's receive loop stops it without waking any waiter, and
the supervisor only notices after ``user_stream_silence_s`` (600 s by default). Meanwhile a
filled market order stays open in the bot and every later exit is refused.

``FillWatchdog`` looks at the open orders every ``interval_s`` wall seconds. A market, IOC or
FOK order is *overdue* when its state has not changed for ``interval_s`` or longer: such an
order is filled (or expired) by the exchange at once. For each symbol with an overdue order,
at most once per interval, ``OrderSync.confirm`` fetches every open order of the symbol by
client id and applies what the venue says through the idempotent applier, so a fill the stream
delivers later is not booked twice. Each order the confirm changed is a *recovery*: logged
(``fill_recovered_by_watchdog``), counted, and the user stream is asked for a restart and a REST
resync, because a stream that lost a fill cannot be trusted.

An order's "last update" is the wall time at which the watchdog first saw its current state
(status, filled quantity, update time): ``Order.updated_ns`` holds venue or candle times, which
in a paced replay follow the history clock, not the wall clock. An overdue order is therefore
noticed within two intervals.

Only runtimes whose fills come from a stream get one (``fill_watchdog_for``): paper venues fill
on candles, and step-driven replays confirm before every decision already.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Final, Protocol

import structlog

from aegis.model.enums import OrderStatus, OrderType, TimeInForce
from aegis.model.errors import AegisError
from aegis.model.events import OrderUpdate
from aegis.model.order import Order

if TYPE_CHECKING:
    from aegis.engine.runtime import TradingRuntime

log = structlog.get_logger(__name__)

__all__ = ["FillWatchdog", "Recovery", "fill_watchdog_for", "is_watched"]

#: the reason the watchdog gives the user stream when it asks for a restart
RESTART_REASON: Final = "watchdog"
_IMMEDIATE: Final = frozenset({TimeInForce.IOC, TimeInForce.FOK})


class OrderBook(Protocol):
    """The order manager as the watchdog reads it."""

    @property
    def open_orders(self) -> list[Order]:
        """Return the orders not in a terminal state."""
        ...

    @property
    def orders(self) -> Mapping[str, Order]:
        """Return every order by client order id."""
        ...


class Confirmer(Protocol):
    """``OrderSync``: apply the venue's view of every open order of a symbol."""

    async def confirm(self, symbol: str) -> None:
        """Ask the venue about each open order of ``symbol`` and apply its answers."""
        ...


class RestartableStream(Protocol):
    """``UserStreamSupervisor``: its resync count and its restart request."""

    @property
    def resyncs(self) -> int:
        """Return how many REST resyncs ran so far."""
        ...

    def request_restart(self, reason: str) -> None:
        """Ask for a stream restart and resync."""
        ...


@dataclass(frozen=True, slots=True)
class Recovery:
    """An order the watchdog's REST lookup changed: the stream had not delivered it."""

    client_order_id: str
    symbol: str
    status: OrderStatus
    filled_quantity: Decimal
    #: wall seconds the order had gone without an update when the watchdog asked
    overdue_s: float


def is_watched(order: Order) -> bool:
    """Return True for orders the exchange settles at once: market, IOC and FOK."""
    return order.type is OrderType.MARKET or order.time_in_force in _IMMEDIATE


def _state(order: Order) -> tuple[OrderStatus, Decimal, int]:
    return order.status, order.filled_quantity, order.updated_ns


class FillWatchdog:
    """Confirm overdue immediate orders through REST; see the module docstring.

    Args:
        book: the order manager (open orders, every order by client id).
        sync: what asks the venue (``OrderSync``).
        interval_s: cadence and overdue threshold, wall seconds (> 0).
        clock: wall clock in milliseconds.
        stream: the user stream to restart after a recovery (None: nothing to restart).
        on_recovery: called with each recovery (the runtime's metrics counter).
        in_flight: client order ids whose submission awaits the venue's answer (the runtime's
            ``in_flight``): not overdue, and what the confirm learns of them is no recovery.
        sleep: injectable pause of ``run``.
    """

    def __init__(
        self,
        book: OrderBook,
        sync: Confirmer,
        *,
        interval_s: float,
        clock: Callable[[], int],
        stream: RestartableStream | None = None,
        on_recovery: Callable[[Recovery], None] | None = None,
        in_flight: Container[str] = frozenset(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not (math.isfinite(interval_s) and interval_s > 0):
            raise ValueError(f"fill watchdog interval_s must be positive, got {interval_s!r}")
        self.book = book
        self.sync = sync
        self.interval_s = interval_s
        self.clock = clock
        self.stream = stream
        self.on_recovery = on_recovery
        self.in_flight = in_flight
        self._sleep = sleep
        self._interval_ms = interval_s * 1000
        # client order id -> (state, wall ms when that state was first seen)
        self._seen: dict[str, tuple[tuple[OrderStatus, Decimal, int], int]] = {}
        self._asked_ms: dict[str, int] = {}
        self._confirming = False
        self._applied_elsewhere: set[str] = set()
        self.checks = 0
        #: confirms finished (failed ones included)
        self.confirms = 0
        self.errors = 0
        self.recoveries = 0
        self.restarts_requested = 0
        self.last_check_ms: int | None = None

    # ------------------------------------------------------------------ the rule
    def overdue(self, now_ms: int) -> dict[str, list[tuple[Order, float]]]:
        """Return, per symbol, the overdue orders with how long each went without an update.

        Also records the state of every open order (the first sight of a state starts its
        clock) and forgets orders that are no longer open.
        """
        found: dict[str, list[tuple[Order, float]]] = {}
        open_ids: set[str] = set()
        for order in self._open():
            coid = order.client_order_id
            open_ids.add(coid)
            if coid in self.in_flight:
                continue  # its submission's answer is still awaited
            state = _state(order)
            seen = self._seen.get(coid)
            if seen is None or seen[0] != state:
                self._seen[coid] = (state, now_ms)
                continue
            age_ms = now_ms - seen[1]
            if is_watched(order) and age_ms >= self._interval_ms:
                found.setdefault(order.symbol, []).append((order, age_ms / 1000))
        for coid in [c for c in self._seen if c not in open_ids]:
            del self._seen[coid]
        return found

    def _open(self) -> list[Order]:
        # the manager's open-order list keeps each order as it was submitted until it ends:
        # its current state (an acknowledgement, a partial fill) is in ``orders``
        orders = self.book.orders
        return [orders.get(o.client_order_id, o) for o in self.book.open_orders]

    def may_ask(self, symbol: str, now_ms: int) -> bool:
        """Return True unless ``symbol`` was asked about less than one interval ago."""
        asked = self._asked_ms.get(symbol)
        return asked is None or now_ms - asked >= self._interval_ms

    # ------------------------------------------------------------------ one pass
    async def check(self) -> list[Recovery]:
        """Confirm every symbol with an overdue order (once per interval); return recoveries."""
        now = self.clock()
        self.checks += 1
        self.last_check_ms = now
        recoveries: list[Recovery] = []
        for symbol, overdue in self.overdue(now).items():
            if not self.may_ask(symbol, now):
                continue
            self._asked_ms[symbol] = now
            recoveries.extend(await self._confirm(symbol, overdue))
        if recoveries and self.stream is not None:
            self.restarts_requested += 1
            self.stream.request_restart(RESTART_REASON)
        return recoveries

    async def _confirm(self, symbol: str, overdue: Sequence[tuple[Order, float]]) -> list[Recovery]:
        ages = {order.client_order_id: age for order, age in overdue}
        # an order whose submission is on the wire gets its answer from the submit call
        before = {o.client_order_id: _state(o) for o in self._open()
                  if o.symbol == symbol and o.client_order_id not in self.in_flight}  # fmt: skip
        resyncs = None if self.stream is None else self.stream.resyncs
        self._applied_elsewhere.clear()
        self._confirming = True
        try:
            await self.sync.confirm(symbol)
        except AegisError as error:
            # answers applied before the failure stay applied; the next interval asks again
            self.errors += 1
            log.warning("fill_watchdog_confirm_failed", symbol=symbol, error=str(error))
        finally:
            self._confirming = False
            self.confirms += 1
        if self.stream is not None and self.stream.resyncs != resyncs:
            # a REST resync ran meanwhile: what changed may be its doing, not the watchdog's
            return []
        recoveries: list[Recovery] = []
        for coid, state in before.items():
            order = self.book.orders.get(coid)
            if order is None or _state(order)[:2] == state[:2]:
                continue
            if coid in self._applied_elsewhere:
                continue  # the stream delivered it while the venue was being asked
            recovery = Recovery(coid, symbol, order.status, order.filled_quantity,
                                round(ages.get(coid, self._age_s(coid)), 3))  # fmt: skip
            self.recoveries += 1
            log.warning(
                "fill_recovered_by_watchdog",
                client_order_id=coid,
                symbol=symbol,
                status=str(order.status),
                filled_quantity=str(order.filled_quantity),
                overdue_s=recovery.overdue_s,
            )
            if self.on_recovery is not None:
                self.on_recovery(recovery)
            recoveries.append(recovery)
        return recoveries

    def _age_s(self, coid: str) -> float:
        seen = self._seen.get(coid)
        return 0.0 if seen is None else (self.clock() - seen[1]) / 1000

    def note_applied(self, updates: Iterable[OrderUpdate]) -> None:
        """Record updates the stream applied while a confirm runs (not recoveries then)."""
        if self._confirming:
            self._applied_elsewhere.update(u.client_order_id for u in updates)

    # ------------------------------------------------------------------ the task
    async def run(self) -> None:
        """Check every ``interval_s`` until cancelled (a supervised, non-critical task)."""
        while True:
            due = self.clock() + self._interval_ms
            await self._sleep(self.interval_s)
            # timers may fire a little early against the wall clock: never ask before the due
            # time, or the once-per-interval limit would skip a whole interval
            while (left_ms := due - self.clock()) > 0:
                await self._sleep(left_ms / 1000)
            await self.check()


def fill_watchdog_for(runtime: TradingRuntime, interval_s: float) -> FillWatchdog | None:
    """Return the watchdog of a runtime whose fills come from a stream, else None.

    None when ``interval_s`` is 0 (switched off), for a paper venue (fills on candles) and
    for a step-driven replay (``confirm_before_decision``: confirmed before every decision).
    """
    from aegis.engine.paper import PaperVenue

    if interval_s <= 0:
        return None
    if isinstance(runtime.venue, PaperVenue) or runtime.options.confirm_before_decision:
        return None
    counter = runtime.metrics.watchdog_recoveries
    return FillWatchdog(
        runtime.pipeline.order_manager,
        runtime.order_sync,
        interval_s=interval_s,
        clock=runtime.wall_clock,
        stream=runtime.user_stream,
        on_recovery=lambda _recovery: counter.inc(),
        in_flight=runtime.in_flight,
    )
