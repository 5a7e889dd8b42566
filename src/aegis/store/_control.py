"""Reconciliation runs, circuit-breaker events, capital reservations (RK2) and retention (PE5)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    bindparam,
    delete,
    func,
    select,
    true,
    update,
)

from aegis.store._base import BOTS, StoreBase, require_tenant
from aegis.store._convert import already_reserved, reservation_row
from aegis.store._driver import DriverTransaction
from aegis.store.errors import StoreError
from aegis.store.records import (
    BreakerEvent,
    PruneResult,
    ReconciliationMismatch,
    ReconciliationRun,
)
from aegis.store.schema import (
    BalanceSnapshotRow,
    BotStateSnapshotRow,
    CapitalReservationRow,
    CircuitBreakerEventRow,
    ReconciliationMismatchRow,
    ReconciliationRunRow,
    ThoughtRow,
    table_of,
)

RUNS = table_of(ReconciliationRunRow)
MISMATCHES = table_of(ReconciliationMismatchRow)
BREAKERS = table_of(CircuitBreakerEventRow)
RESERVATIONS = table_of(CapitalReservationRow)
RUN_RUNNING = "running"

# reservation statements built once (the entry path runs them per order; see _orders.py)
_MY_RESERVATIONS = (RESERVATIONS.c.tenant_id == bindparam("k_tenant")) & (
    RESERVATIONS.c.bot_id == bindparam("k_bot")
)
_RESERVATION_STATE = select(RESERVATIONS.c.released_ns).where(
    _MY_RESERVATIONS & (RESERVATIONS.c.client_order_id == bindparam("k_order"))
)
_HELD = select(RESERVATIONS.c.amount).where(_MY_RESERVATIONS & RESERVATIONS.c.released_ns.is_(None))
_INSERT_RESERVATION = RESERVATIONS.insert()


_LOCK_BOT = (
    select(BOTS.c.bot_id)
    .where((BOTS.c.tenant_id == bindparam("k_tenant")) & (BOTS.c.bot_id == bindparam("k_bot")))
    .with_for_update()
)


class ControlRepository(StoreBase):
    """Records of the safety machinery: reconciliation, breakers, reservations; retention."""

    # ----------------------------------------------------------------- reconciliation (RC1, RC2)
    def start_reconciliation(self, tenant: str, bot_id: str, trigger: str) -> int:
        """Open a reconciliation run (``trigger``: start, periodic, reconnect...); return its id."""
        require_tenant(tenant)
        self.ensure_tenant(tenant)
        with self._write() as connection:
            result = connection.execute(
                RUNS.insert()
                .values(
                    tenant_id=tenant,
                    bot_id=bot_id,
                    trigger=trigger,
                    status=RUN_RUNNING,
                    started_ns=self._now(),
                    finished_ns=None,
                    records_checked=0,
                    mismatch_count=0,
                    error=None,
                )
                .returning(RUNS.c.id)
            )
            return int(result.scalar_one())

    def record_mismatch(
        self,
        tenant: str,
        run_id: int,
        kind: str,
        subject: str,
        *,
        local_value: str | None,
        venue_value: str | None,
        action: str,
    ) -> None:
        """Record one classified mismatch of run ``run_id`` and the healing ``action`` taken."""
        require_tenant(tenant)
        with self._write() as connection:
            self._require_run(connection, tenant, run_id)
            connection.execute(
                MISMATCHES.insert().values(
                    tenant_id=tenant,
                    run_id=run_id,
                    kind=str(kind),
                    subject=subject,
                    local_value=local_value,
                    venue_value=venue_value,
                    action=str(action),
                    ts_ns=self._now(),
                )
            )
            connection.execute(
                update(RUNS)
                .where(RUNS.c.id == run_id)
                .values(mismatch_count=RUNS.c.mismatch_count + 1)
            )

    def finish_reconciliation(
        self, tenant: str, run_id: int, *, records_checked: int, error: str | None = None
    ) -> ReconciliationRun:
        """Close run ``run_id``: status ``failed`` with ``error``, else clean or mismatched."""
        require_tenant(tenant)
        with self._write() as connection:
            self._require_run(connection, tenant, run_id)
            mismatches = connection.execute(
                select(RUNS.c.mismatch_count).where(RUNS.c.id == run_id)
            ).scalar_one()
            status = "mismatched" if mismatches else "clean"
            if error is not None:
                status = "failed"
            connection.execute(
                update(RUNS)
                .where(RUNS.c.id == run_id)
                .values(
                    status=status,
                    finished_ns=self._now(),
                    records_checked=records_checked,
                    error=error,
                )
            )
        runs = [run for run in self.reconciliation_runs(tenant) if run.run_id == run_id]
        return runs[0]

    def _require_run(self, connection: Connection, tenant: str, run_id: int) -> None:
        found = connection.execute(
            select(RUNS.c.id).where((RUNS.c.tenant_id == tenant) & (RUNS.c.id == run_id))
        ).scalar_one_or_none()
        if found is None:
            raise StoreError(f"reconciliation run {run_id} not found for tenant {tenant!r}")

    def reconciliation_runs(
        self, tenant: str, bot_id: str | None = None, limit: int = 100
    ) -> list[ReconciliationRun]:
        """Return the tenant's newest ``limit`` runs, newest first."""
        require_tenant(tenant)
        query = select(RUNS).where(RUNS.c.tenant_id == tenant)
        if bot_id is not None:
            query = query.where(RUNS.c.bot_id == bot_id)
        query = query.order_by(RUNS.c.id.desc()).limit(limit)
        with self._read() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            ReconciliationRun(
                run_id=row["id"],
                bot_id=row["bot_id"],
                trigger=row["trigger"],
                status=row["status"],
                started_ns=row["started_ns"],
                finished_ns=row["finished_ns"],
                records_checked=row["records_checked"],
                mismatch_count=row["mismatch_count"],
                error=row["error"],
            )
            for row in rows
        ]

    def reconciliation_mismatches(self, tenant: str, run_id: int) -> list[ReconciliationMismatch]:
        """Return the mismatches of run ``run_id`` in the order they were recorded."""
        require_tenant(tenant)
        query = (
            select(MISMATCHES)
            .where((MISMATCHES.c.tenant_id == tenant) & (MISMATCHES.c.run_id == run_id))
            .order_by(MISMATCHES.c.id)
        )
        with self._read() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            ReconciliationMismatch(
                run_id=row["run_id"],
                kind=row["kind"],
                subject=row["subject"],
                local_value=row["local_value"],
                venue_value=row["venue_value"],
                action=row["action"],
                ts_ns=row["ts_ns"],
            )
            for row in rows
        ]

    # ----------------------------------------------------------------- breakers (RK3)
    def record_breaker_event(
        self,
        tenant: str,
        breaker: str,
        action: str,
        reason: str,
        *,
        actor: str = "system",
        bot_id: str | None = None,
    ) -> BreakerEvent:
        """Record that ``breaker`` tripped or was resumed (``action``), why and by whom."""
        require_tenant(tenant)
        self.ensure_tenant(tenant)
        now = self._now()
        with self._write() as connection:
            connection.execute(
                BREAKERS.insert().values(
                    tenant_id=tenant,
                    bot_id=bot_id,
                    breaker=breaker,
                    action=str(action),
                    reason=reason,
                    actor=actor,
                    ts_ns=now,
                )
            )
        return BreakerEvent(breaker, str(action), reason, actor, now, bot_id)

    def breaker_events(
        self, tenant: str, bot_id: str | None = None, limit: int = 100
    ) -> list[BreakerEvent]:
        """Return the tenant's newest ``limit`` breaker events, oldest first."""
        require_tenant(tenant)
        query = select(BREAKERS).where(BREAKERS.c.tenant_id == tenant)
        if bot_id is not None:
            query = query.where(BREAKERS.c.bot_id == bot_id)
        query = query.order_by(BREAKERS.c.id.desc()).limit(limit)
        with self._read() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            BreakerEvent(
                row["breaker"],
                row["action"],
                row["reason"],
                row["actor"],
                row["ts_ns"],
                row["bot_id"],
            )
            for row in reversed(rows)
        ]

    # ----------------------------------------------------------------- reservations (RK2)
    def reserve_capital(
        self,
        tenant: str,
        bot_id: str,
        order_id: str,
        amount: Decimal,
        limit: Decimal,
        *,
        durable: bool = True,
    ) -> bool:
        """Reserve ``amount`` for intent ``order_id`` unless the bot's total would pass ``limit``.

        Atomic: the check and the insert run under the bot's lock (PostgreSQL: the bots row
        ``FOR UPDATE``; SQLite: ``BEGIN IMMEDIATE``), so concurrent callers cannot together
        exceed ``limit``. Reserving an order already holding a reservation returns True.
        ``durable=False`` commits without waiting for the disk: for a caller that commits the
        order's intent durably next (the runtime), whose sync makes the reservation durable too;
        if that intent never comes, no order was sent and a reservation lost to a power cut
        held nothing real.
        """
        require_tenant(tenant)
        if amount <= 0:
            raise ValueError(f"reservation amount {amount} for {order_id!r} must be positive")
        if limit < 0:
            raise ValueError(f"reservation limit {limit} for bot {bot_id!r} must not be negative")
        self.ensure_bot(tenant, bot_id)
        if self._driver is not None:
            with self._driver.transaction(durable=durable) as fast:
                if fast is not None:
                    return self._reserve_on_driver(fast, tenant, bot_id, order_id, amount, limit)
        with self._write(durable=durable) as connection:
            self._lock_bot(connection, tenant, bot_id)
            existing = connection.execute(
                _RESERVATION_STATE, {"k_tenant": tenant, "k_bot": bot_id, "k_order": order_id}
            ).one_or_none()
            if existing is not None:
                return already_reserved(existing.released_ns, bot_id, order_id)
            held = self._held(connection, tenant, bot_id)
            if held + amount > limit:
                return False
            connection.execute(
                _INSERT_RESERVATION, reservation_row(tenant, bot_id, order_id, amount, self._now())
            )
            return True

    def _reserve_on_driver(
        self,
        fast: DriverTransaction,
        tenant: str,
        bot_id: str,
        order_id: str,
        amount: Decimal,
        limit: Decimal,
    ) -> bool:
        """``reserve_capital`` on SQLite's driver connection: the same statements and rows."""
        driver = self._driver
        if driver is None:
            raise RuntimeError("the driver path is for SQLite stores only")
        key = {"k_tenant": tenant, "k_bot": bot_id, "k_order": order_id}
        # BEGIN IMMEDIATE holds the database's write lock: check and insert are atomic
        existing = fast.rows(driver.statement("reservation_state", _RESERVATION_STATE), key)
        if existing:
            return already_reserved(existing[0][0], bot_id, order_id)
        amounts = fast.rows(driver.statement("reservation_held", _HELD), key)
        # ExactDecimal keeps SQLite decimals as canonical text: parsed back exactly
        held = sum((Decimal(str(value)) for (value,) in amounts), Decimal(0))
        if held + amount > limit:
            return False
        row = reservation_row(tenant, bot_id, order_id, amount, self._now())
        fast.execute(driver.statement("reservation_insert", _INSERT_RESERVATION, list(row)), row)
        return True

    def release_reservation(self, tenant: str, bot_id: str, order_id: str) -> bool:
        """Release the capital held for ``order_id``; return False if none was held."""
        require_tenant(tenant)
        with self._write() as connection:
            result = connection.execute(
                update(RESERVATIONS)
                .where(
                    (RESERVATIONS.c.tenant_id == tenant)
                    & (RESERVATIONS.c.bot_id == bot_id)
                    & (RESERVATIONS.c.client_order_id == order_id)
                    & RESERVATIONS.c.released_ns.is_(None)
                )
                .values(released_ns=self._now())
            )
            return result.rowcount > 0

    def reserved_capital(self, tenant: str, bot_id: str) -> Decimal:
        """Return the capital currently held by the bot's pending intents."""
        require_tenant(tenant)
        with self._read() as connection:
            return self._held(connection, tenant, bot_id)

    def _lock_bot(self, connection: Connection, tenant: str, bot_id: str) -> None:
        if connection.dialect.name == "postgresql":
            connection.execute(_LOCK_BOT, {"k_tenant": tenant, "k_bot": bot_id}).one()
        # SQLite: the write transaction began with BEGIN IMMEDIATE, the database lock is held

    def _held(self, connection: Connection, tenant: str, bot_id: str) -> Decimal:
        # summed in Python: SQLite keeps decimals as text, SUM() there would go through floats
        amounts = connection.execute(_HELD, {"k_tenant": tenant, "k_bot": bot_id}).scalars()
        return sum(amounts, Decimal(0))

    # ----------------------------------------------------------------- retention (PE5)
    def prune(self, older_than: timedelta, *, tenant: str | None = None) -> PruneResult:
        """Delete thoughts, balance and state snapshots, released reservations older than
        ``older_than`` (of one tenant, or all). Orders, fills, trades, events, the audit log,
        reconciliation and breaker records are kept; so is each bot's newest state snapshot.
        """
        if older_than < timedelta(0):
            raise ValueError(f"older_than {older_than} must not be negative")
        cutoff = self._now() - older_than // timedelta(microseconds=1) * 1_000
        thoughts = table_of(ThoughtRow)
        balances = table_of(BalanceSnapshotRow)
        snapshots = table_of(BotStateSnapshotRow)

        def scope(table: Table) -> ColumnElement[bool]:
            if tenant is None:
                return true()
            return table.c.tenant_id == require_tenant(tenant)

        newest = select(func.max(snapshots.c.id)).group_by(
            snapshots.c.tenant_id, snapshots.c.bot_id
        )
        statements = {
            "thoughts": delete(thoughts).where(scope(thoughts) & (thoughts.c.ts_ns < cutoff)),
            "balance_snapshots": delete(balances).where(
                scope(balances) & (balances.c.ts_ns < cutoff)
            ),
            "bot_state_snapshots": delete(snapshots).where(
                scope(snapshots)
                & (snapshots.c.created_ns < cutoff)
                & snapshots.c.id.not_in(newest.scalar_subquery())
            ),
            "capital_reservations": delete(RESERVATIONS).where(
                scope(RESERVATIONS) & (RESERVATIONS.c.released_ns < cutoff)
            ),
        }
        with self._write() as connection:
            deleted = {
                name: connection.execute(statement).rowcount
                for name, statement in statements.items()
            }
        return PruneResult(deleted)
