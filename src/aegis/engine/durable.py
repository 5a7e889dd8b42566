"""What makes the runtime durable: journal, risk gate, exit locks, breakers, kill switch.

``Durability`` is handed to ``TradingRuntime``; the runtime calls its hooks at each step of the
order lifecycle and it journals (PE2), releases reservations (RK2), frees exit locks (OR4) and
trips or resumes circuit breakers with an audit row and an alert (RK3, API4). A runtime without
it (unit tests, the parity fakes) trades exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import structlog

from aegis.engine.crashpoints import crash_point
from aegis.engine.guards import PositionLocks
from aegis.engine.journal import UNAVAILABLE_ERRORS, DatabaseUnavailable, DurableJournal
from aegis.engine.risk_gate import RiskGate
from aegis.execution.reconcile import stored_legs_and_trades
from aegis.model.events import Fill, OrderUpdate
from aegis.model.instrument import Instrument
from aegis.model.order import Order
from aegis.risk import BreakerAuditEvent, BreakerBoard, BreakerKind, KillSwitch, RiskEngine
from aegis.store import TradeRecord

log = structlog.get_logger(__name__)

SYSTEM_ACTOR: Final = "system"

#: where the risk engine's history of a symbol's round trips ends: ``(exit_ts_ns, trade_id)``
_Mark = tuple[int, str]


def _round_trip_mark(trade: TradeRecord) -> _Mark:
    """Return the mark of a closed trade: its exit time, then its id (ties of one instant)."""
    return (trade.exit_ts_ns or 0, trade.trade_id)


@dataclass(slots=True)
class Restored:
    """What start-up recovery restored (shown by ``aegis status``)."""

    snapshot_owner: str | None = None
    snapshot_created_ns: int | None = None
    last_candles: dict[str, int] = field(default_factory=dict)
    strategies: list[str] = field(default_factory=list)
    orders: int = 0
    open_orders: int = 0
    fills: int = 0
    pending_resolved: int = 0
    start_reconciliation: str | None = None
    breakers: list[str] = field(default_factory=list)
    kill_switch: list[str] = field(default_factory=list)
    round_trips_replayed: int = 0

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-safe dict."""
        return {
            "snapshot_owner": self.snapshot_owner,
            "snapshot_created_ns": self.snapshot_created_ns,
            "last_candles": dict(self.last_candles),
            "strategies": list(self.strategies),
            "orders": self.orders,
            "open_orders": self.open_orders,
            "fills": self.fills,
            "pending_resolved": self.pending_resolved,
            "start_reconciliation": self.start_reconciliation,
            "breakers": list(self.breakers),
            "kill_switch": list(self.kill_switch),
            "round_trips_replayed": self.round_trips_replayed,
        }


class Durability:
    """The runtime's durable side; see the module docstring.

    ``clock_ns`` stamps breaker events (wall time: operators read them).
    """

    def __init__(
        self,
        journal: DurableJournal,
        risk: RiskEngine,
        gate: RiskGate,
        *,
        kill_switch: KillSwitch,
        clock_ns: Callable[[], int],
        locks: PositionLocks | None = None,
    ) -> None:
        self.journal = journal
        self.risk = risk
        self.gate = gate
        self.kill_switch = kill_switch
        self.clock_ns = clock_ns
        self.locks = PositionLocks() if locks is None else locks
        self.restored = Restored()
        #: reconciliation runs with mismatches seen so far: the store may hold orders the
        #: running process lacks after each (``recorded_orders_unknown``)
        self.reconciliations = 0
        #: per symbol, the newest closed trade fed to the risk engine (``record_round_trip``)
        self.round_trip_marks: dict[str, _Mark] = {}
        #: True after restoring a snapshot written before the marks existed: its risk state
        #: holds an unknown prefix of the stored round trips (recovery replays none)
        self.round_trip_marks_unknown = False
        journal.on_availability = self.on_database
        # the writes after the venue call leave the event loop (the intent stays synchronous)
        journal.start_writer()
        journal.on_round_trip = self.record_round_trip

    @property
    def tenant(self) -> str:
        """Return the tenant the bot belongs to."""
        return self.journal.tenant

    @property
    def bot_id(self) -> str:
        """Return the bot id."""
        return self.journal.bot_id

    @property
    def breakers(self) -> BreakerBoard:
        """Return the risk engine's breaker board."""
        return self.risk.breakers

    @property
    def may_decide(self) -> bool:
        """Return False while the database cannot take an intent (no new decisions)."""
        return self.journal.is_available

    # ----------------------------------------------------------------- order lifecycle
    def on_applied(self, order: Order, update: OrderUpdate) -> None:
        """Journal one applied update; free locks and reservations of a final order."""
        if update.fill is not None:
            crash_point("after_ack_before_fill")
        self.journal.record_update(order, update)
        if order.status.is_terminal:
            self.locks.on_order(order)
            if order.tag == "entry":
                self.gate.release(order.client_order_id)

    # ----------------------------------------------------------------- breakers (RK3)
    def trip(
        self, kind: BreakerKind, reason: str, *, actor: str = SYSTEM_ACTOR
    ) -> BreakerAuditEvent | None:
        """Trip ``kind``: entries pause; audited and alerted once per trip."""
        event = self.breakers.trip(kind, reason, self.clock_ns(), actor)
        self._record(event)
        return event

    def record(self, event: BreakerAuditEvent | None) -> None:
        """Audit and alert a breaker event a monitor returned (None: nothing happened)."""
        self._record(event)

    def resume(
        self, kind: BreakerKind | Literal["all"], actor: str, reason: str
    ) -> list[BreakerAuditEvent]:
        """Resume ``kind`` (explicit, RK3); return the events written."""
        events = self.breakers.resume(kind, actor, self.clock_ns(), reason)
        for event in events:
            self._record(event)
        return events

    def _record(self, event: BreakerAuditEvent | None) -> None:
        if event is None:
            return
        breaker, action = str(event.breaker), str(event.action)
        self.journal.breaker_event(breaker, action, event.reason, event.actor)
        self.journal.audit(event.actor, f"breaker_{action}", "ok", event.to_json())
        log.warning("alert", alert=f"breaker_{action}", bot_id=event.bot_id, breaker=breaker,
                    reason=event.reason, actor=event.actor)  # fmt: skip

    def on_database(self, is_available: bool, reason: str) -> None:
        """Pause entries while the database is away; resume when the backlog is written.

        The only automatic resume: the condition is the runtime's own storage, and the backlog
        written first guarantees nothing was lost (issue 4 section 3).
        """
        if not is_available:
            self.trip(BreakerKind.DATABASE_DOWN, f"database unavailable: {reason}")
        elif self.breakers.is_tripped(BreakerKind.DATABASE_DOWN):
            self.resume(BreakerKind.DATABASE_DOWN, "system:database-recovered", reason)

    def on_reconciliation(self, mismatches: int, summary: str) -> None:
        """Trip the reconciliation breaker on a run with mismatches (RK3)."""
        self.reconciliations += 1
        event = self.breakers.reconciliation_result(mismatches, self.clock_ns(), summary)
        self._record(event)

    # ----------------------------------------------------------------- adoption (RC2)
    def recorded_orders_unknown(
        self, symbol: str, known: Container[str]
    ) -> list[tuple[Order, list[Fill]]]:
        """Return the bot's stored orders of ``symbol`` not in ``known``, with their fills.

        These are the orders reconciliation adopted into the store (placed by hand on the
        account, say) that the running process never created. Oldest first; each order's
        fills oldest first, as the store holds them.
        """
        store, tenant, bot_id = self.journal.store, self.tenant, self.bot_id
        try:
            orders = [
                o
                for o in store.orders(tenant, bot_id=bot_id, symbol=symbol)
                if o.client_order_id not in known
            ]
            stored_fills = store.fills(tenant, bot_id=bot_id) if orders else []
        except UNAVAILABLE_ERRORS as error:
            raise DatabaseUnavailable(f"orders of {symbol} not read: {error}") from error
        fills: dict[str, list[Fill]] = {o.client_order_id: [] for o in orders}
        for fill in stored_fills:
            wanted = fills.get(fill.client_order_id)
            if wanted is not None:
                wanted.append(fill)
        return [(o, fills[o.client_order_id]) for o in orders]

    def reload_positions(self, instruments: Mapping[str, Instrument]) -> None:
        """Reload the journal's position legs and open trades from the store after adopted fills.

        Reconciliation wrote the adopted fills' legs and the trades they imply, but the
        journal's in-memory legs and trade tracker never saw those fills: the next fill
        journaled would write a leg without them and carry on a trade the adopted fills closed
        or reduced. The queued writes go first, so the legs and trades read are the ones
        everything journaled produced; the open trades resume on the reloaded legs. The round
        trips the adopted fills closed reached the store only: the risk engine is fed those
        after their symbol's mark, as at a restart (the journal's own ones are behind it).
        """
        journal = self.journal
        journal.drain()
        store, tenant, bot_id = journal.store, self.tenant, self.bot_id
        try:
            book, trades = stored_legs_and_trades(store, tenant, bot_id, instruments)
            closed = store.trades(tenant, bot_id=bot_id, is_open=False)
        except UNAVAILABLE_ERRORS as error:
            raise DatabaseUnavailable(f"position legs or trades not read: {error}") from error
        journal.book = book
        journal.trades = trades
        replayed = self.replay_round_trips(closed)
        if replayed:
            log.info("round_trips_replayed", bot_id=bot_id, count=replayed, after="reconciliation")

    # ----------------------------------------------------------------- round trips
    def record_round_trip(self, trade: TradeRecord) -> None:
        """Feed a closed trade's net PnL to the risk engine; advance its symbol's mark."""
        self.risk.record_round_trip(trade.pnl, trade.exit_ts_ns or self.clock_ns())
        self._advance_mark(trade)

    def replay_round_trips(self, closed: Iterable[TradeRecord]) -> int:
        """Feed the closed trades after their symbol's mark, oldest exit first; return how many.

        ``closed`` is the bot's closed trades in the store. These are the round trips the
        risk state lacks: closed after the snapshot restored (a crash before the next one), or
        written by the start reconciliation for adopted fills. The cooldown counts consecutive
        losses across symbols, hence one order by ``(exit_ts_ns, trade_id)`` over all of them.
        """
        missed = [t for t in closed if not t.is_open and self._after_mark(t)]
        missed.sort(key=_round_trip_mark)
        for trade in missed:
            self.record_round_trip(trade)
        return len(missed)

    def mark_round_trips_seen(self, closed: Iterable[TradeRecord]) -> None:
        """Advance the marks past ``closed`` without feeding them (the risk state has them)."""
        for trade in closed:
            self._advance_mark(trade)

    def _after_mark(self, trade: TradeRecord) -> bool:
        current = self.round_trip_marks.get(trade.symbol)
        return current is None or _round_trip_mark(trade) > current

    def _advance_mark(self, trade: TradeRecord) -> None:
        # never back: a trade closed out of order (an adopted fill's) must not reopen the range
        if self._after_mark(trade):
            self.round_trip_marks[trade.symbol] = _round_trip_mark(trade)

    # ----------------------------------------------------------------- snapshots
    def state(self) -> dict[str, Any]:
        """Return the risk and kill-switch state and the round-trip marks for the snapshot (PE3).

        Waits for the journal's writer first: a snapshot never runs ahead of the orders,
        fills and positions written before it.
        """
        self.journal.drain()
        return {
            "risk": self.risk.state(),
            "kill_switch": self.kill_switch.state(),
            "round_trip_marks": {s: [ts, tid] for s, (ts, tid) in self.round_trip_marks.items()},
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Load what ``state`` returned."""
        if "risk" in state:
            self.risk.restore(state["risk"])
            # a snapshot without marks predates them: its risk state is not empty
            self.round_trip_marks_unknown = "round_trip_marks" not in state
        self.round_trip_marks = _marks(state.get("round_trip_marks") or {})
        if "kill_switch" in state:
            self.kill_switch.restore(state["kill_switch"])
        self.restored.breakers = [str(kind) for kind in self.breakers.tripped()]
        self.restored.kill_switch = [scope.label() for scope in self.kill_switch.latched()]


def _marks(raw: Mapping[str, Any]) -> dict[str, _Mark]:
    marks: dict[str, _Mark] = {}
    for symbol, mark in raw.items():
        if not (isinstance(mark, list | tuple) and len(mark) == 2):
            raise ValueError(
                f"round_trip_marks[{symbol!r}] must be [exit_ts_ns, trade_id], got {mark!r}"
            )
        marks[str(symbol)] = (int(mark[0]), str(mark[1]))
    return marks
