"""The durable runtime's background work: reconciliation, snapshots, retention, controls.

``DurableServices`` runs, as supervised tasks: reconciliation every ``reconcile_interval_s`` and
after every user-stream reconnect (RC1), bot snapshots every ``snapshot_interval_s`` (PE3), the
retention prune (PE5), the database watchdog (writes the backlog back with back-off after an
outage), the websocket-down monitor (RK3), the control poll (kill / pause / resume, API4) and
the funding poller (after each funding time and after every reconnect, OR3).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, Final

import structlog

from aegis.config import DatabaseSettings
from aegis.engine.controls import DONE, FAILED, ControlRequest, finish_request, load_pending
from aegis.engine.durable import Durability
from aegis.engine.funding_poller import FundingPoller
from aegis.engine.journal import UNAVAILABLE_ERRORS
from aegis.engine.recovery import save_snapshot
from aegis.engine.runtime import TradingRuntime
from aegis.engine.supervisor import Supervisor
from aegis.execution.reconcile import (
    TRIGGER_KILL,
    HealAction,
    Reconciler,
    ReconciliationReport,
    RecordKind,
)
from aegis.model.enums import OrderSide
from aegis.model.errors import AegisError, OrderNotFound
from aegis.model.signals import Action, Decision
from aegis.risk import BotBook, BreakerKind, KillScope
from aegis.store import Store

log = structlog.get_logger(__name__)

_NS: Final = 1_000_000_000


class DurableServices:
    """Background services of one durable runtime; see the module docstring."""

    def __init__(
        self,
        runtime: TradingRuntime,
        durability: Durability,
        store: Store,
        settings: DatabaseSettings,
        *,
        reconciler: Reconciler | None,
        funding: FundingPoller | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.runtime = runtime
        self.durability = durability
        self.store = store
        self.settings = settings
        self.reconciler = reconciler
        self.funding = funding
        self.sleep = sleep
        self.stop_event = asyncio.Event()
        self.controls_handled = 0
        self.reconnect_runs = 0

    # ----------------------------------------------------------------- lifecycle
    def start(self, supervisor: Supervisor) -> None:
        """Start every background task under ``supervisor`` (none is critical)."""
        settings = self.settings
        if self.reconciler is not None:
            supervisor.start("reconcile", self.reconciler.run_periodically(
                settings.reconcile_interval_s, self.stop_event), critical=False)  # fmt: skip
        if self.reconciler is not None or self.funding is not None:
            self.runtime.after_resync = self._after_reconnect
        if self.funding is not None:
            supervisor.start("funding", self.funding.run(self.stop_event), critical=False)
        supervisor.start("snapshots", self._every(settings.snapshot_interval_s, self.snapshot),
                         critical=False)  # fmt: skip
        supervisor.start("retention", self._every(settings.prune_interval_s, self.prune),
                         critical=False)  # fmt: skip
        supervisor.start("database-watchdog", self._watch_database(), critical=False)
        supervisor.start("controls", self._every(settings.control_poll_s, self.poll_controls),
                         critical=False)  # fmt: skip
        supervisor.start("websocket-monitor", self._every(1.0, self.check_websocket),
                         critical=False)  # fmt: skip

    async def stop(self) -> None:
        """Stop the loops and write the shutdown snapshot (PE3)."""
        self.stop_event.set()
        await self._flush_now()
        try:
            await self.snapshot()
        except UNAVAILABLE_ERRORS as error:
            log.error("shutdown_snapshot_failed", error=type(error).__name__)

    async def _every(self, interval_s: float, work: Callable[[], Awaitable[Any]]) -> None:
        while not self.stop_event.is_set():
            try:
                await asyncio.wait_for(self.stop_event.wait(), interval_s)
            except TimeoutError:
                await work()

    # ----------------------------------------------------------------- periodic work
    async def snapshot(self) -> None:
        """Save the bot snapshot now."""
        await save_snapshot(self.store, self.runtime, self.durability)

    async def prune(self) -> None:
        """Delete thoughts, balance and state snapshots older than the retention (PE5)."""
        if not self.durability.journal.is_available:
            return
        older = timedelta(days=self.settings.retention_days)
        result = await asyncio.to_thread(self.store.prune, older, tenant=self.durability.tenant)
        if result.total:
            log.info("retention_pruned", **result.deleted)

    async def check_websocket(self) -> None:
        """Trip WEBSOCKET_DOWN when the user stream stayed down longer than the limit."""
        breakers = self.durability.breakers
        now = time.time_ns()
        if self.runtime.user_stream.is_connected:
            breakers.websocket_connected(now)
            return
        breakers.websocket_disconnected(now)
        self.durability.record(breakers.check_websocket(now))

    def on_reconciliation(self, report: ReconciliationReport) -> None:
        """Reconciler alert: trip the breaker and raise an alert (RK3, RC2)."""
        kinds = sorted({str(m.kind) for m in report.mismatches})
        log.warning(
            "alert",
            alert="reconciliation_mismatch",
            run_id=report.run_id,
            trigger=report.trigger,
            mismatches=len(report.outcomes),
            kinds=kinds,
        )
        self.durability.on_reconciliation(len(report.outcomes), ", ".join(kinds))

    async def on_reconciliation_report(self, report: ReconciliationReport) -> None:
        """Reconciler alert: trip and alert, then bring the running process in line (RC3)."""
        self.on_reconciliation(report)
        await self.heal_process(report)

    async def heal_process(self, report: ReconciliationReport) -> None:
        """Ask the venue about the open orders of every symbol whose orders were adopted.

        The reconciler heals the store; the running order manager and portfolio would keep
        their own view until a restart, and an operator's resume would trade on it. The venue's
        answers go through the same idempotent ``OrderSync.confirm`` as a deterministic replay:
        fills the process lacks are applied once, closed orders are closed. The journal's
        position legs are then reloaded from the store: a fill the reconciler stored and the
        process applied afterwards moved those legs although the store refused it as a duplicate.
        """
        symbols = sorted({
            outcome.mismatch.symbol for outcome in report.outcomes
            if outcome.action is HealAction.ADOPTED
            and outcome.mismatch.record in (RecordKind.ORDER, RecordKind.FILL)
        })  # fmt: skip
        for symbol in symbols:
            if symbol not in self.runtime.record.symbols or self.stop_event.is_set():
                continue
            try:
                await self.runtime.order_sync.confirm(symbol)
            except AegisError as error:
                log.warning("process_heal_failed", symbol=symbol, error=str(error))
                continue
            log.info("process_healed", symbol=symbol, run_id=report.run_id)
        if symbols and not self.stop_event.is_set():
            instruments = self.runtime.pipeline.order_manager.instruments
            try:
                self.durability.reload_positions(instruments)
            except AegisError as error:
                log.warning("process_heal_legs_not_reloaded", error=str(error))

    async def _after_reconnect(self) -> None:
        """RC1 / OR3: reconcile, then book funding missed while the stream was down."""
        await self._reconcile_after_reconnect()
        if self.funding is not None and not self.stop_event.is_set():
            await self.funding.catch_up("reconnect")

    async def _reconcile_after_reconnect(self) -> None:
        if self.reconciler is None or self.stop_event.is_set():
            return
        self.reconnect_runs += 1
        try:
            await self.reconciler.on_stream_reconnect()
        except AegisError as error:
            log.error("reconcile_after_reconnect_failed", error=str(error))

    # ----------------------------------------------------------------- database outage
    async def _watch_database(self) -> None:
        """Write the backlog back once the database answers, with exponential back-off."""
        delay = self.settings.retry_initial_s
        while not self.stop_event.is_set():
            journal = self.durability.journal
            if journal.is_available and not journal.backlog:
                delay = self.settings.retry_initial_s
                await self.sleep(self.settings.retry_initial_s)
                continue
            if await asyncio.to_thread(journal.probe) and journal.flush():
                log.info("database_recovered", bot_id=self.durability.bot_id)
                continue
            await self.sleep(delay)
            delay = min(delay * 2, self.settings.retry_max_s)

    async def _flush_now(self) -> None:
        journal = self.durability.journal
        if journal.backlog and await asyncio.to_thread(journal.probe):
            journal.flush()

    # ----------------------------------------------------------------- controls
    async def poll_controls(self) -> None:
        """Execute every control request not handled yet (kill, pause, resume, rearm)."""
        if not self.durability.journal.is_available:
            return
        tenant, bot_id = self.durability.tenant, self.durability.bot_id
        requests = await asyncio.to_thread(load_pending, self.store, tenant, bot_id)
        for request in requests:
            if not request.scope.covers(tenant, bot_id):
                continue
            try:
                details = await self.execute(request)
            except (AegisError, ValueError) as error:
                await asyncio.to_thread(finish_request, self.store, tenant, request, FAILED,
                                        error=str(error), bot_id=bot_id)  # fmt: skip
                continue
            await asyncio.to_thread(finish_request, self.store, tenant, request, DONE,
                                    bot_id=bot_id, **details)  # fmt: skip
            self.controls_handled += 1

    async def execute(self, request: ControlRequest) -> dict[str, Any]:
        """Run one control request; return what it did (for the audit row)."""
        reason = str(request.details.get("reason") or f"{request.action} by {request.actor}")
        if request.action == "kill":
            return await self.kill(request.scope, request.actor, reason)
        if request.action == "pause":
            event = self.durability.trip(BreakerKind.MANUAL, reason, actor=request.actor)
            return {"paused": event is not None}
        if request.action == "resume":
            kind = str(request.details.get("breaker") or "all")
            target: Any = "all" if kind == "all" else BreakerKind(kind)
            events = self.durability.resume(target, request.actor, reason)
            rearmed = self.durability.kill_switch.rearm(request.scope, request.actor,
                                                        time.time_ns(), reason)  # fmt: skip
            return {"resumed": [str(e.breaker) for e in events], "rearmed": rearmed is not None}
        raise ValueError(f"control action {request.action!r} is not supported by the runtime")

    async def kill(self, scope: KillScope, actor: str, reason: str) -> dict[str, Any]:
        """Cancel every open order and flatten every leg of the bot; latch the kill (RK5).

        A reconciliation runs first: an order placed by hand on the account since the last run
        is adopted (and taken over by the process through ``heal_process``), so the kill
        cancels it too. A failed run does not hold the kill back.
        """
        runtime, durability = self.runtime, self.durability
        if self.reconciler is not None:
            try:
                await self.reconciler.run(TRIGGER_KILL)
            except AegisError as error:
                log.error("reconcile_before_kill_failed", error=str(error))
        manager = runtime.pipeline.order_manager
        book = BotBook(
            durability.tenant,
            durability.bot_id,
            tuple(manager.open_orders),
            tuple(p for p in manager.portfolio.positions() if p.quantity > 0),
            manager.portfolio.position_mode,
        )
        plan = durability.kill_switch.engage(scope, [book], actor, time.time_ns(), reason)
        log.warning("alert", alert="kill_switch", scope=scope.label(), actor=actor, reason=reason)
        cancelled = 0
        for cancel in plan.cancels:
            order = manager.orders[cancel.client_order_id]
            try:
                runtime.applier.apply([await runtime.venue.cancel(order)])
                cancelled += 1
            except OrderNotFound:
                await runtime.order_sync.confirm(order.symbol)
        flattened: list[str] = []
        for flatten in plan.flattens:
            action = Action.EXIT_LONG if flatten.side is OrderSide.SELL else Action.EXIT_SHORT
            close = runtime.last_close.get(flatten.symbol, Decimal(0))
            ts_ms = runtime.clock()
            decision = Decision(flatten.symbol, ts_ms, action, 1.0,
                                f"kill switch on {scope.label()} by {actor}: flatten",
                                "kill_switch", {})  # fmt: skip
            exit_order = runtime.prepare(decision, float(close), ts_ms * 1_000_000)
            if exit_order is not None:
                await runtime.submit(exit_order)
                flattened.append(exit_order.client_order_id)
        return {
            "scope": scope.to_json(),
            "cancelled": cancelled,
            "flatten_orders": flattened,
            "planned_cancels": len(plan.cancels),
            "planned_flattens": len(plan.flattens),
        }
