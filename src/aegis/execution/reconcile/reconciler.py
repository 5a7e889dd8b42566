"""``Reconciler``: fetch everything, compare, record, heal by policy, alert (RC1, RC2)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import structlog

from aegis.execution.reconcile._types import (
    HealAction,
    LocalState,
    Mismatch,
    MismatchKind,
    ReconcilePolicy,
    RecordKind,
    Tolerances,
    VenueState,
    venue_key,
)
from aegis.execution.reconcile.compare import compare_states
from aegis.execution.reconcile.heal import OrderHealer
from aegis.model import PENDING_STATUSES, AegisError, Fill
from aegis.store import Store
from aegis.venues.base import Venue, VenueOrder

__all__ = [
    "DEFAULT_INTERVAL_S",
    "PENDING_STATUSES",
    "TRIGGER_KILL",
    "TRIGGER_PERIODIC",
    "TRIGGER_RECONNECT",
    "TRIGGER_START",
    "AlertCallback",
    "MismatchOutcome",
    "Reconciler",
    "ReconciliationReport",
]

log = structlog.get_logger(__name__)

TRIGGER_START: Final = "start"
TRIGGER_PERIODIC: Final = "periodic"
TRIGGER_RECONNECT: Final = "reconnect"
#: before a kill cancels: orders placed by hand since the last run join the bot, and are cancelled
TRIGGER_KILL: Final = "kill"
DEFAULT_INTERVAL_S: Final = 15 * 60.0

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], int]


@dataclass(frozen=True, slots=True)
class MismatchOutcome:
    """One mismatch of a run and what was done about it."""

    mismatch: Mismatch
    action: HealAction


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconciliationReport:
    """The result of one run, as recorded in the store (``run_id``)."""

    run_id: int
    trigger: str
    policy: ReconcilePolicy
    status: str
    records_checked: int
    outcomes: tuple[MismatchOutcome, ...]
    started_ns: int
    finished_ns: int

    @property
    def mismatches(self) -> tuple[Mismatch, ...]:
        """Return the mismatches found, in the order they were recorded."""
        return tuple(o.mismatch for o in self.outcomes)

    @property
    def is_clean(self) -> bool:
        """Return True when the store and the venue agreed."""
        return not self.outcomes

    def count(self, kind: MismatchKind) -> int:
        """Return how many mismatches of ``kind`` were found."""
        return sum(1 for o in self.outcomes if o.mismatch.kind is kind)


AlertCallback = Callable[[ReconciliationReport], Awaitable[None] | None]


def _identity(mismatch: Mismatch) -> tuple[str, str, str]:
    return (str(mismatch.kind), mismatch.subject, mismatch.field)


class Reconciler:
    """Compare one bot's store state with its venue over all records and heal by ``policy``.

    ``symbols``: the symbols traded (orders and fills are fetched per symbol; every symbol
    of a stored order is added). ``clock`` returns UTC ns. ``on_alert`` gets every report
    with mismatches (the engine wires notifications and circuit breakers to it).
    """

    def __init__(
        self,
        venue: Venue,
        store: Store,
        tenant: str,
        bot_id: str,
        policy: ReconcilePolicy,
        *,
        symbols: Iterable[str],
        clock: Clock,
        tolerances: Tolerances | None = None,
        on_alert: AlertCallback | None = None,
    ) -> None:
        self.venue = venue
        self.store = store
        self.tenant = tenant
        self.bot_id = bot_id
        self.policy = ReconcilePolicy(policy)
        self.symbols = tuple(sorted(set(symbols)))
        self.tolerances = Tolerances() if tolerances is None else tolerances
        self.on_alert = on_alert
        self._clock = clock
        self._lock = asyncio.Lock()  # a periodic run and a reconnect run never overlap
        self._log = log.bind(tenant=tenant, bot_id=bot_id)

    # ----------------------------------------------------------------- triggers
    async def run(self, trigger: str) -> ReconciliationReport:
        """Run one reconciliation; the run and every mismatch are recorded in the store.

        Raises what the venue or the store raised; the run is then recorded as failed.
        """
        async with self._lock:
            started = self._clock()
            run_id = await asyncio.to_thread(
                self.store.start_reconciliation, self.tenant, self.bot_id, trigger
            )
            try:
                outcomes, checked = await self._reconcile(run_id)
            except (Exception, asyncio.CancelledError) as error:
                await asyncio.shield(
                    asyncio.to_thread(
                        self.store.finish_reconciliation,
                        self.tenant,
                        run_id,
                        records_checked=0,
                        error=f"{type(error).__name__}: {error}",
                    )
                )
                self._log.error("reconcile_failed", run_id=run_id, trigger=trigger, exc_info=True)
                raise
            run = await asyncio.to_thread(
                self.store.finish_reconciliation, self.tenant, run_id, records_checked=checked
            )
        report = ReconciliationReport(
            run_id=run_id,
            trigger=trigger,
            policy=self.policy,
            status=run.status,
            records_checked=checked,
            outcomes=tuple(outcomes),
            started_ns=started,
            finished_ns=self._clock(),
        )
        self._log.info(
            "reconcile_finished",
            run_id=run_id,
            trigger=trigger,
            status=run.status,
            records_checked=checked,
            mismatches=len(outcomes),
        )
        if outcomes and self.on_alert is not None:
            result = self.on_alert(report)
            if inspect.isawaitable(result):
                await result
        return report

    async def on_stream_reconnect(self) -> ReconciliationReport:
        """Reconcile after the user-data stream came back: events may have been missed (RC1)."""
        return await self.run(TRIGGER_RECONNECT)

    async def run_periodically(
        self,
        interval_s: float = DEFAULT_INTERVAL_S,
        stop_event: asyncio.Event | None = None,
        *,
        sleep: Sleep | None = None,
    ) -> None:
        """Reconcile every ``interval_s`` until ``stop_event`` is set (RC1, default 15 min).

        ``sleep`` defaults to waiting on ``stop_event`` with a timeout, so stopping is prompt.
        A failed run (an ``AegisError``: venue or store) is logged and the loop goes on.
        """
        if interval_s <= 0:
            raise ValueError(f"interval_s {interval_s} must be positive")
        stop = asyncio.Event() if stop_event is None else stop_event

        async def wait_or_stop(seconds: float) -> None:
            try:
                await asyncio.wait_for(stop.wait(), timeout=seconds)
            except TimeoutError:
                return

        pause = wait_or_stop if sleep is None else sleep
        while not stop.is_set():
            await pause(interval_s)
            if stop.is_set():
                return
            try:
                await self.run(TRIGGER_PERIODIC)
            except AegisError:
                continue  # recorded as a failed run and logged by run(); try next period

    # ----------------------------------------------------------------- one run
    async def _reconcile(self, run_id: int) -> tuple[list[MismatchOutcome], int]:
        known = await asyncio.to_thread(self._load_local)
        symbols = sorted(set(self.symbols) | {o.symbol for o in known.orders})
        venue = await self._fetch_venue(symbols)
        # Compare against a store read taken AFTER the venue's: every intent is committed
        # before its order is sent (OR2), so an order the bot placed while the venue was being
        # read is in this read, instead of showing as "missing locally" and tripping a breaker.
        local = _scoped(await asyncio.to_thread(self._load_local), set(symbols))
        now = self._clock()
        found = compare_states(local, venue, self.tolerances, now_ns=now)
        checked = len(local.orders) + len(local.fills) + len(local.positions) + venue.records
        if not found:
            return [], checked
        if self.policy is ReconcilePolicy.ALERT:
            outcomes = [MismatchOutcome(m, HealAction.ALERTED) for m in found]
        else:
            outcomes = await asyncio.to_thread(self._adopt, local, venue, found, symbols)
        await asyncio.to_thread(self._record, run_id, outcomes)
        return outcomes, checked

    def _load_local(self) -> LocalState:
        store, tenant, bot_id = self.store, self.tenant, self.bot_id
        latest: dict[str, Decimal] = {}
        for snapshot in store.balances(tenant):  # oldest first: the last one wins
            if snapshot.bot_id is None or snapshot.bot_id == bot_id:
                latest[snapshot.currency] = snapshot.total
        return LocalState(
            orders=store.orders(tenant, bot_id=bot_id),
            fills=store.fills(tenant, bot_id=bot_id),
            positions=store.positions(tenant, bot_id=bot_id),
            balances=latest or None,
        )

    async def _fetch_venue(self, symbols: Sequence[str]) -> VenueState:
        venue = self.venue

        async def history(symbol: str) -> tuple[list[VenueOrder], list[Fill]]:
            # orders first: they teach the adapter the client ids the fills are named by
            orders = await venue.fetch_orders(symbol)
            return orders, await venue.fetch_fills(symbol)

        per_symbol = await asyncio.gather(*(history(s) for s in symbols))
        # linear contracts use the settle suffix (BTC/USDT:USDT); spot has no positions
        has_derivatives = any(":" in s for s in symbols)
        positions = await venue.fetch_positions() if has_derivatives else None
        balances = await venue.fetch_balances()
        wanted = set(symbols)
        return VenueState(
            orders=[o for orders, _ in per_symbol for o in orders],
            fills=[f for _, fills in per_symbol for f in fills],
            positions=None if positions is None else [p for p in positions if p.symbol in wanted],
            balances=dict(balances),
        )

    def _adopt(
        self, local: LocalState, venue: VenueState, found: list[Mismatch], symbols: list[str]
    ) -> list[MismatchOutcome]:
        healer = OrderHealer(
            self.store, self.tenant, self.bot_id, self.venue.instruments(), self._clock
        )
        stored_fills = {(f.client_order_id, f.trade_id) for f in local.fills}
        new_fills: dict[str, list[Fill]] = {}
        for fill in venue.fills:
            if (fill.client_order_id, fill.trade_id) not in stored_fills:
                new_fills.setdefault(fill.client_order_id, []).append(fill)
        by_id = {o.client_order_id: o for o in local.orders}
        venue_by_id = {venue_key(o): o for o in venue.orders}
        touched = {m.client_order_id for m in found if m.record in _ORDER_RECORDS}
        for key in sorted(k for k in touched if k is not None):
            ours, theirs = by_id.get(key), venue_by_id.get(key)
            if theirs is None:
                if ours is not None and ours.status in PENDING_STATUSES:
                    healer.resolve_unknown(ours)
            elif ours is None:
                healer.adopt_missing(theirs, new_fills.get(key, ()))
            else:
                healer.heal(ours, theirs, new_fills.get(key, ()))
        for mismatch in found:
            if mismatch.kind is MismatchKind.BALANCE_DRIFT and mismatch.venue_value is not None:
                self._adopt_balance(mismatch.symbol, Decimal(mismatch.venue_value))
        # verify instead of assume: what still differs was not adoptable
        after = _scoped(self._load_local(), set(symbols))
        remaining = {_identity(m) for m in compare_states(after, venue, self.tolerances,
                                                          now_ns=self._clock())}  # fmt: skip
        return [
            MismatchOutcome(
                m, HealAction.NOT_ADOPTABLE if _identity(m) in remaining else HealAction.ADOPTED
            )
            for m in found
        ]

    def _adopt_balance(self, currency: str, total: Decimal) -> None:
        readings = self.store.balances(self.tenant, currency)
        # the venue reports totals only: never claim more free cash than we last knew of
        free = total if not readings else min(readings[-1].free, total)
        self.store.record_balance(self.tenant, currency, total, free)

    def _record(self, run_id: int, outcomes: Sequence[MismatchOutcome]) -> None:
        for outcome in outcomes:
            mismatch = outcome.mismatch
            self.store.record_mismatch(
                self.tenant,
                run_id,
                str(mismatch.kind),
                f"{mismatch.subject} {mismatch.field}",
                local_value=mismatch.local_value,
                venue_value=mismatch.venue_value,
                action=str(outcome.action),
            )
            self._log.warning(
                "reconcile_mismatch",
                run_id=run_id,
                kind=str(mismatch.kind),
                subject=mismatch.subject,
                field=mismatch.field,
                local_value=mismatch.local_value,
                venue_value=mismatch.venue_value,
                action=str(outcome.action),
            )


_ORDER_RECORDS: Final = frozenset({RecordKind.ORDER, RecordKind.FILL})


def _scoped(local: LocalState, symbols: set[str]) -> LocalState:
    return LocalState(
        orders=[o for o in local.orders if o.symbol in symbols],
        fills=[f for f in local.fills if f.symbol in symbols],
        positions=[p for p in local.positions if p.symbol in symbols],
        balances=local.balances,
    )
