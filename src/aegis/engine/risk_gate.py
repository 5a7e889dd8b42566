"""Risk in the live path (RK1-RK3): every entry passes ``RiskEngine.evaluate`` before its intent.

``RiskGate`` is the pipeline's ``entry_gate``: the gate the backtest uses too
(``aegis.risk.RiskEntryGate``: context from the book, verdict, refusal on the book, the approved
quantity) plus the journal, which stores every verdict's thought (ST3). Exits never reach it:
risk never blocks reducing exposure. Capital is reserved atomically in the database through
``TenantCapitalReservations`` and released when the entry is final.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import nullcontext
from decimal import Decimal

import structlog

from aegis.engine.journal import UNAVAILABLE_ERRORS, DatabaseUnavailable, DurableJournal
from aegis.execution import OrderManager
from aegis.risk import RiskEngine, RiskEntryGate, RiskVerdict, TenantCapitalReservations
from aegis.store import Store

log = structlog.get_logger(__name__)


class ToleranceBackend:
    """``ReservationBackend`` over the store whose release survives a database outage.

    A terminal order's ``apply_order_update`` releases its reservation in the same transaction,
    so a release that cannot be written now is done anyway when the backlog is written.

    The reservation commits without waiting for the disk (``durable=False``): the entry's
    intent is committed durably right after it, before anything is sent (OR2), and that sync
    covers the reservation too. Inside the runtime's ``DurableJournal.intent_batch`` (SQLite)
    both are one transaction: the reservation commits with the intent, synced once. With
    ``journal`` set (``RiskGate`` does), releases are queued behind the journal's writes instead
    of blocking the event loop; until written, the capital still counts as held, which can only
    make a concurrent entry more conservative.
    """

    def __init__(self, store: Store, journal: DurableJournal | None = None) -> None:
        self.store = store
        self.journal = journal

    def reserve_capital(
        self, tenant: str, bot_id: str, order_id: str, amount: Decimal, limit: Decimal
    ) -> bool:
        """Reserve atomically (raises ``DatabaseUnavailable`` when it cannot be written)."""
        journal = self.journal
        try:
            with nullcontext() if journal is None else journal.urgent_write():
                return self.store.reserve_capital(
                    tenant, bot_id, order_id, amount, limit, durable=False
                )
        except UNAVAILABLE_ERRORS as error:
            raise DatabaseUnavailable(f"reservation of {order_id} not written: {error}") from error

    def release_reservation(self, tenant: str, bot_id: str, order_id: str) -> bool:
        """Release; False when nothing was held or the database is away.

        With a journal the release is queued behind its writes and True is returned.
        """
        journal = self.journal
        if journal is not None:
            store = self.store
            journal.submit(
                f"release {order_id}",
                lambda: store.release_reservation(tenant, bot_id, order_id),
            )
            return True
        try:
            return self.store.release_reservation(tenant, bot_id, order_id)
        except UNAVAILABLE_ERRORS:
            return False

    def reserved_capital(self, tenant: str, bot_id: str) -> Decimal:
        """Return the capital held by the bot's pending intents."""
        return self.store.reserved_capital(tenant, bot_id)


class RiskGate(RiskEntryGate):
    """The runtime's entry gate: ``aegis.risk.RiskEntryGate`` plus the journal.

    Every verdict's thought is stored (ST3: rejected ones above all) and a refusal is logged.
    """

    def __init__(
        self,
        engine: RiskEngine,
        manager: OrderManager,
        marks: Mapping[str, Decimal],
        *,
        journal: DurableJournal | None = None,
        on_verdict: Callable[[RiskVerdict], None] | None = None,
    ) -> None:
        super().__init__(engine, manager, marks, on_verdict=on_verdict)
        self.journal = journal
        reservations = engine.reservations
        if journal is not None and isinstance(reservations, TenantCapitalReservations):
            backend = reservations.backend
            if isinstance(backend, ToleranceBackend):
                backend.journal = journal

    def record(self, verdict: RiskVerdict, ts_ns: int) -> None:
        """Journal the verdict's thought; log a refusal."""
        thought = verdict.thought
        if self.journal is not None:
            self.journal.record_thought(
                thought.thought,
                symbol=thought.symbol,
                strategy=thought.strategy,
                metadata=thought.metadata,
                ts_ns=ts_ns,
            )
        if not verdict.approved:
            log.info(
                "risk_rejected",
                symbol=thought.symbol,
                rule=str(verdict.rule),
                reason=verdict.reason,
            )
