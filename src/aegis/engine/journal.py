"""The runtime's durable journal: intents first, one transaction per update, a backlog in outages.

``DurableJournal`` is the one writer between the runtime and ``aegis.store.Store`` (OR2, PE2,
PE4). ``write_intent`` commits an order before the venue is called; it raises
``DatabaseUnavailable`` when the database cannot take it, so an intent that was not written is
never sent. ``record_update`` writes an order's new state, its event, fill, position legs and
round trips in one ``Store.apply_order_update`` transaction (two legs and two round trips when
a one-way fill goes through zero). While the database is away (PostgreSQL restarting, SQLite
locked), updates, thoughts and audit rows queue in an in-memory backlog, in order, that
``flush`` writes when the database is back: nothing the venue told us is lost.

``start_writer`` moves every write except the intent onto one ordered writer thread
(``OrderedWriter``): they happen after the venue answered, so the event loop does not wait for
their commit and is free for the next candle. They keep their order, one transaction each; a
failure hands the unwritten ones to the backlog and trips ``database_down`` like any outage.
``drain`` (before a snapshot) and ``flush`` (shutdown, recovery) wait until they are written.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Final

import structlog
from sqlalchemy.exc import DBAPIError

from aegis.engine.journal_writer import Job, OrderedWriter, Write
from aegis.execution.reconcile import PositionBook, TradeTracker, apply_fill
from aegis.model.errors import AegisError
from aegis.model.events import OrderUpdate
from aegis.model.instrument import Instrument
from aegis.model.order import Order
from aegis.model.position import Position
from aegis.store import DuplicateFill, Store, TradeRecord

log = structlog.get_logger(__name__)

#: errors that mean "the database is not reachable right now", not "this write is wrong"
UNAVAILABLE_ERRORS: Final = (DBAPIError,)


class DatabaseUnavailable(AegisError):
    """The database did not take a write; retry later (the runtime pauses entries meanwhile)."""


OnAvailability = Callable[[bool, str], None]


class DurableJournal:
    """Write the runtime's state to ``store`` for ``tenant`` / ``bot_id``; see module docstring.

    ``on_availability(is_available, reason)`` is called when the database goes away and when it
    comes back (the runtime trips / resumes its ``database_down`` breaker). ``on_round_trip``
    gets every closed trade (the risk engine's cooldown and Kelly history).
    """

    def __init__(
        self,
        store: Store,
        tenant: str,
        bot_id: str,
        instruments: Mapping[str, Instrument],
        *,
        positions: Iterable[Position] = (),
        open_trades: Iterable[TradeRecord] = (),
        on_availability: OnAvailability | None = None,
        on_round_trip: Callable[[TradeRecord], None] | None = None,
    ) -> None:
        self.store = store
        self.tenant = tenant
        self.bot_id = bot_id
        self.book = PositionBook(positions, instruments)
        self._trades = TradeTracker(bot_id, open_trades)
        self._trades.resume(self.book.legs())
        self.on_availability = on_availability
        self.on_round_trip = on_round_trip
        self._available = True
        self.duplicates = 0
        self.writes = 0
        self._backlog: deque[Job] = deque()
        # guards the backlog, the writer's routing and the failure the writer thread reports
        self._lock = threading.Lock()
        self._writer: OrderedWriter | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failure: str | None = None
        self._owner_thread = threading.get_ident()

    @property
    def trades(self) -> TradeTracker:
        """Return the round-trip tracker."""
        return self._trades

    @trades.setter
    def trades(self, tracker: TradeTracker) -> None:
        # recovery sets ``book`` from the store, then this: restored trades resume on its legs
        tracker.resume(self.book.legs())
        self._trades = tracker

    @property
    def is_available(self) -> bool:
        """Return False while the database cannot take writes (no new decisions meanwhile)."""
        self._surface_failure()
        return self._available

    def start_writer(self) -> None:
        """Write everything but intents on one ordered thread from now on (see module doc).

        Call it from the event loop's thread: a failure on the writer is reported back to
        that loop (``on_availability`` always runs on the loop's thread).
        """
        if self._writer is not None:
            return
        self._owner_thread = threading.get_ident()
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self._writer = OrderedWriter(f"journal-{self.bot_id}", self._run, self._writer_failed)

    def urgent_write(self) -> AbstractContextManager[None]:
        """Context for a synchronous write on the loop: it goes before the queued writes."""
        return nullcontext() if self._writer is None else self._writer.urgent()

    def hold_writes(self) -> AbstractContextManager[None]:
        """Context for a candle's way to its order: queued writes wait (bounded, see hold)."""
        return nullcontext() if self._writer is None else self._writer.hold()

    @property
    def writes_held(self) -> bool:
        """Return True while ``hold_writes`` keeps the writer thread from starting a write."""
        return self._writer is not None and self._writer.is_held

    @property
    def pending(self) -> int:
        """Return the number of writes queued on the writer thread (not the outage backlog)."""
        return 0 if self._writer is None else self._writer.pending

    def drain(self, timeout_s: float | None = None) -> bool:
        """Wait until the writer thread wrote everything queued; False on timeout.

        Writes that failed are in the backlog by then (``flush`` writes them).
        """
        writer = self._writer
        done = True if writer is None else writer.drain(timeout_s)
        self._surface_failure()
        return done

    # ----------------------------------------------------------------- intents (OR2)
    @contextlib.contextmanager
    def intent_batch(self) -> Iterator[None]:
        """Context of a decision's way to its intent: one transaction, synced once (SQLite).

        The entry's capital reservation and the intent's rows commit together at the intent
        (``Store.write_batch``): one ``BEGIN IMMEDIATE`` ... ``COMMIT`` where there were a
        relaxed commit and a synced one. When no intent follows (the order was refused after
        the reservation), the block's end commits the reservation; if that fails the database
        is reported down and ``DatabaseUnavailable`` is raised (no order exists then).
        """
        try:
            with self.urgent_write(), self.store.write_batch():
                yield
        except UNAVAILABLE_ERRORS as error:
            self._went_down(f"intent transaction: {error}")
            raise DatabaseUnavailable(f"intent transaction not written: {error}") from error

    def write_intent(self, order: Order) -> None:
        """Commit ``order`` before it is sent; raise ``DatabaseUnavailable`` if it cannot be."""
        if not self.is_available:
            raise DatabaseUnavailable(
                f"intent {order.client_order_id} not written: the database is unavailable"
            )
        try:
            with self.urgent_write():
                self.store.record_intent(self.tenant, order)
        except UNAVAILABLE_ERRORS as error:
            self._went_down(f"record_intent {order.client_order_id}: {error}")
            raise DatabaseUnavailable(
                f"intent {order.client_order_id} not written: {type(error).__name__}"
            ) from error
        with self._lock:
            self.writes += 1

    # ----------------------------------------------------------------- updates (PE2)
    def record_update(self, order_after: Order, update: OrderUpdate) -> None:
        """Write one applied update with its fill, position legs and trades in one transaction.

        A one-way fill through zero moves two legs: it is applied in two parts (the one that
        closes the held leg, then the rest that opens the other), so the closed leg is stored
        flat and its round trip closed, and the opened leg and its new round trip are written
        beside them, in the same transaction.
        """
        positions: list[Position] = []
        trades: list[TradeRecord] = []
        fill = update.fill
        if fill is not None:
            positions, trades = apply_fill(self.book, self.trades, fill)
        if self.on_round_trip is not None:
            for trade in trades:
                if not trade.is_open:
                    self.on_round_trip(trade)
        tenant = self.tenant

        def write() -> None:
            self.store.apply_order_update(
                tenant, order_after, update, positions=positions, trades=trades
            )

        self.submit(f"update {update.client_order_id} {update.kind}", write)

    # ----------------------------------------------------------------- other writes
    def record_thought(self, text: str, **fields: Any) -> None:
        """Store a decision's thought (ST3); queued while the database is away."""
        tenant, bot = self.tenant, self.bot_id
        self.submit("thought", lambda: self.store.record_thought(tenant, bot, text, **fields))

    def audit(
        self, actor: str, action: str, outcome: str, details: Mapping[str, Any] | None = None
    ) -> None:
        """Write an audit row (API4); queued while the database is away."""
        tenant = self.tenant
        payload = dict(details or {})
        self.submit(
            f"audit {action}", lambda: self.store.audit(tenant, actor, action, outcome, payload)
        )

    def breaker_event(self, breaker: str, action: str, reason: str, actor: str) -> None:
        """Record a circuit-breaker trip or resume (RK3); queued while the database is away."""
        tenant, bot = self.tenant, self.bot_id
        self.submit(
            f"breaker {breaker} {action}",
            lambda: self.store.record_breaker_event(
                tenant, breaker, action, reason, actor=actor, bot_id=bot
            ),
        )

    # ----------------------------------------------------------------- backlog
    def submit(self, name: str, write: Write) -> None:
        """Run ``write`` now (or on the writer thread), or queue it behind earlier writes.

        While the database is away, or a failure of the writer thread is not handled yet,
        ``write`` joins the backlog behind everything submitted before it.
        """
        with self._lock:
            if self._backlog or not self._available or self._failure is not None:
                self._backlog.append((name, write))
                return
            writer = self._writer
            if writer is not None:
                if not writer.submit(name, write):
                    # the writer just failed; its jobs are being put in front of this one
                    self._backlog.append((name, write))
                return
        try:
            self._run(write)
        except UNAVAILABLE_ERRORS as error:
            self._backlog.append((name, write))
            self._went_down(f"{name}: {error}")

    @property
    def backlog(self) -> int:
        """Return the number of writes waiting for the database."""
        return len(self._backlog)

    def flush(self) -> bool:
        """Write the queue and the backlog in order; True when both are empty and the DB is back.

        Raises nothing for an unavailable database: the caller retries with back-off.
        """
        self.drain()
        while True:
            with self._lock:
                if not self._backlog:
                    break
                name, write = self._backlog[0]
            try:
                self._run(write)
            except UNAVAILABLE_ERRORS as error:
                log.warning("database_still_unavailable", pending=len(self._backlog),
                            write=name, error=type(error).__name__)  # fmt: skip
                return False
            with self._lock:
                self._backlog.popleft()
        if self._writer is not None:
            self._writer.resume()
        if not self._available:
            self._available = True
            log.warning("database_available", bot_id=self.bot_id)
            if self.on_availability is not None:
                self.on_availability(True, "database reachable again; backlog written")
        return True

    def probe(self) -> bool:
        """Return True when the database answers a write transaction (outage recovery)."""
        try:
            with self.store.engine.begin() as connection:
                connection.exec_driver_sql("SELECT 1")
        except UNAVAILABLE_ERRORS:
            return False
        return True

    def _run(self, write: Write) -> None:
        try:
            write()
        except DuplicateFill:
            # already applied (a replay after a restart or a reconnect): nothing to write
            with self._lock:
                self.duplicates += 1
        with self._lock:  # counted from the writer thread and the loop
            self.writes += 1

    def _writer_failed(self, jobs: list[Job], error: BaseException) -> None:
        # on the writer thread: the jobs go in front of anything submitted since, in order
        name = jobs[0][0]
        if not isinstance(error, UNAVAILABLE_ERRORS):
            # not an outage but a write the store refuses: retrying it would never succeed.
            # It is dropped loudly (the synchronous journal raises it to its caller instead)
            # and the writes behind it wait in the backlog behind a database_down trip.
            log.error("alert", alert="journal_write_failed", bot_id=self.bot_id, write=name,
                      error=f"{type(error).__name__}: {error}")  # fmt: skip
            jobs = jobs[1:]
        with self._lock:
            self._backlog.extendleft(reversed(jobs))
            self._failure = f"{name}: {type(error).__name__}: {error}"
        loop = self._loop
        if loop is not None and not loop.is_closed():
            # RuntimeError: the loop closed meanwhile; the next caller surfaces the failure
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._surface_failure)

    def _surface_failure(self) -> None:
        # the breaker trips on the caller's (the loop's) thread, never on the writer's
        if self._failure is None or threading.get_ident() != self._owner_thread:
            return
        with self._lock:
            reason, self._failure = self._failure, None
        if reason is not None:
            self._went_down(reason)

    def _went_down(self, reason: str) -> None:
        if not self._available:
            return
        self._available = False
        log.error("alert", alert="database_unavailable", bot_id=self.bot_id, reason=reason)
        if self.on_availability is not None:
            self.on_availability(False, reason)
