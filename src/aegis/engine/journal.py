"""The runtime's durable journal: intents first, one transaction per update, a backlog in outages.

``DurableJournal`` is the one writer between the runtime and ``aegis.store.Store`` (OR2, PE2,
PE4). ``write_intent`` commits an order before the venue is called; it raises
``DatabaseUnavailable`` when the database cannot take it, so an intent that was not written is
never sent. ``record_update`` writes an order's new state, its event, fill, position leg and round
trip in one ``Store.apply_order_update`` transaction. While the database is away (PostgreSQL
restarting, SQLite locked), updates, thoughts and audit rows queue in an in-memory backlog, in
order, that ``flush`` writes when the database is back: nothing the venue told us is lost.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import structlog
from sqlalchemy.exc import DBAPIError

from aegis.execution.reconcile import PositionBook
from aegis.model.enums import PositionSide
from aegis.model.errors import AegisError
from aegis.model.events import Fill, OrderUpdate
from aegis.model.instrument import Instrument
from aegis.model.order import Order
from aegis.model.position import Position
from aegis.store import DuplicateFill, Store, TradeRecord

log = structlog.get_logger(__name__)

_ZERO: Final = Decimal(0)
#: errors that mean "the database is not reachable right now", not "this write is wrong"
UNAVAILABLE_ERRORS: Final = (DBAPIError,)


class DatabaseUnavailable(AegisError):
    """The database did not take a write; retry later (the runtime pauses entries meanwhile)."""


@dataclass(slots=True)
class _OpenTrade:
    trade_id: str
    entry_ts_ns: int
    realised_before: Decimal
    fees_before: Decimal


class TradeTracker:
    """Round trips per position leg, derived from the leg before and after each fill (PE2)."""

    def __init__(self, bot_id: str, open_trades: Iterable[TradeRecord] = ()) -> None:
        self.bot_id = bot_id
        self._open: dict[tuple[str, PositionSide], _OpenTrade] = {}
        self._restored = {(t.symbol, t.side): t for t in open_trades if t.is_open}

    def on_fill(self, fill: Fill, before: Position | None, after: Position) -> TradeRecord | None:
        """Return the trade a fill opened, grew or closed on leg ``after`` (None: no change)."""
        key = (after.symbol, after.side)
        held_before = _ZERO if before is None else before.quantity
        state = self._open.get(key)
        if state is None and key in self._restored:
            restored = self._restored.pop(key)
            state = _OpenTrade(restored.trade_id, restored.entry_ts_ns, _ZERO, _ZERO)
            self._open[key] = state
        if state is None or held_before == _ZERO:
            base = before if before is not None else after
            state = _OpenTrade(
                f"{fill.client_order_id}:{after.side}",
                fill.ts_ns,
                base.realised_pnl if before is not None else _ZERO,
                base.fees_paid if before is not None else _ZERO,
            )
            self._open[key] = state
        fees = after.fees_paid - state.fees_before
        pnl = after.realised_pnl - state.realised_before - fees
        is_open = after.quantity > _ZERO
        if not is_open:
            del self._open[key]
        return TradeRecord(
            trade_id=state.trade_id,
            bot_id=self.bot_id,
            symbol=after.symbol,
            side=after.side,
            entry_ts_ns=state.entry_ts_ns,
            entry_price=after.average_entry_price,
            quantity=after.quantity if is_open else held_before,
            pnl=pnl,
            fees=fees,
            is_open=is_open,
            exit_ts_ns=None if is_open else fill.ts_ns,
            exit_price=None if is_open else fill.price,
        )


Write = Callable[[], object]
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
        self.trades = TradeTracker(bot_id, open_trades)
        self.on_availability = on_availability
        self.on_round_trip = on_round_trip
        self.is_available = True
        self.duplicates = 0
        self.writes = 0
        self._backlog: deque[tuple[str, Write]] = deque()

    # ----------------------------------------------------------------- intents (OR2)
    def write_intent(self, order: Order) -> None:
        """Commit ``order`` before it is sent; raise ``DatabaseUnavailable`` if it cannot be."""
        if not self.is_available:
            raise DatabaseUnavailable(
                f"intent {order.client_order_id} not written: the database is unavailable"
            )
        try:
            self.store.record_intent(self.tenant, order)
        except UNAVAILABLE_ERRORS as error:
            self._went_down(f"record_intent {order.client_order_id}: {error}")
            raise DatabaseUnavailable(
                f"intent {order.client_order_id} not written: {type(error).__name__}"
            ) from error
        self.writes += 1

    # ----------------------------------------------------------------- updates (PE2)
    def record_update(self, order_after: Order, update: OrderUpdate) -> None:
        """Write one applied update with its fill, position leg and trade in one transaction."""
        position: Position | None = None
        trade: TradeRecord | None = None
        fill = update.fill
        if fill is not None:
            before = self._leg(fill)
            position = self.book.apply(fill)
            trade = self.trades.on_fill(fill, before, position)
            if trade is not None and not trade.is_open and self.on_round_trip is not None:
                self.on_round_trip(trade)
        tenant = self.tenant

        def write() -> None:
            self.store.apply_order_update(
                tenant, order_after, update, position=position, trade=trade
            )

        self.submit(f"update {update.client_order_id} {update.kind}", write)

    def _leg(self, fill: Fill) -> Position | None:
        side = fill.position_side
        for leg in self.book.legs():
            if leg.symbol != fill.symbol:
                continue
            if side is not None and leg.side is side:
                return leg
            if side is None and leg.quantity > _ZERO:
                return leg
        return None

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
        """Run ``write`` now, or queue it behind earlier writes while the database is away."""
        if self._backlog or not self.is_available:
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
        """Write the backlog in order; return True when it is empty and the database is back.

        Raises nothing for an unavailable database: the caller retries with back-off.
        """
        while self._backlog:
            name, write = self._backlog[0]
            try:
                self._run(write)
            except UNAVAILABLE_ERRORS as error:
                log.warning("database_still_unavailable", pending=len(self._backlog),
                            write=name, error=type(error).__name__)  # fmt: skip
                return False
            self._backlog.popleft()
        if not self.is_available:
            self.is_available = True
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
            self.duplicates += 1
        self.writes += 1

    def _went_down(self, reason: str) -> None:
        if not self.is_available:
            return
        self.is_available = False
        log.error("alert", alert="database_unavailable", bot_id=self.bot_id, reason=reason)
        if self.on_availability is not None:
            self.on_availability(False, reason)
