"""Risk in the live path (RK1-RK3): every entry passes ``RiskEngine.evaluate`` before its intent.

``RiskGate`` is the pipeline's ``entry_gate``: it builds the ``RiskContext`` from the book (equity
and exposures at the last closes, the client order id the entry will carry), stores the verdict's
thought (ST3: rejected ones above all), and returns the approved quantity. Exits never reach it:
risk never blocks reducing exposure. Capital is reserved atomically in the database through
``TenantCapitalReservations`` and released when the entry is final.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Final

import structlog

from aegis.engine.journal import UNAVAILABLE_ERRORS, DatabaseUnavailable, DurableJournal
from aegis.execution import OrderManager
from aegis.model.ids import client_order_id
from aegis.model.signals import Decision
from aegis.risk import RiskContext, RiskEngine, RiskVerdict, exposures_from_portfolio
from aegis.store import Store

log = structlog.get_logger(__name__)

_MS_TO_NS: Final = 1_000_000


class ToleranceBackend:
    """``ReservationBackend`` over the store whose release survives a database outage.

    A terminal order's ``apply_order_update`` releases its reservation in the same transaction,
    so a release that cannot be written now is done anyway when the backlog is written.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def reserve_capital(
        self, tenant: str, bot_id: str, order_id: str, amount: Decimal, limit: Decimal
    ) -> bool:
        """Reserve atomically (raises ``DatabaseUnavailable`` when it cannot be written)."""
        try:
            return self.store.reserve_capital(tenant, bot_id, order_id, amount, limit)
        except UNAVAILABLE_ERRORS as error:
            raise DatabaseUnavailable(f"reservation of {order_id} not written: {error}") from error

    def release_reservation(self, tenant: str, bot_id: str, order_id: str) -> bool:
        """Release; False when nothing was held or the database is away."""
        try:
            return self.store.release_reservation(tenant, bot_id, order_id)
        except UNAVAILABLE_ERRORS:
            return False

    def reserved_capital(self, tenant: str, bot_id: str) -> Decimal:
        """Return the capital held by the bot's pending intents."""
        return self.store.reserved_capital(tenant, bot_id)


class RiskGate:
    """The pipeline's entry gate; see the module docstring."""

    def __init__(
        self,
        engine: RiskEngine,
        manager: OrderManager,
        marks: Mapping[str, Decimal],
        *,
        journal: DurableJournal | None = None,
        on_verdict: Callable[[RiskVerdict], None] | None = None,
    ) -> None:
        self.engine = engine
        self.manager = manager
        self.marks = marks
        self.journal = journal
        self.on_verdict = on_verdict
        self.approved = 0
        self.rejected = 0
        self.last_verdict: RiskVerdict | None = None

    def expected_client_order_id(self) -> str:
        """Return the client id the next order of the manager will carry (its reservation key)."""
        return client_order_id(self.manager.bot_id, self.manager.next_sequence)

    def __call__(self, decision: Decision, reference_price: float) -> Decimal | None:
        """Evaluate an entry; return the approved quantity or None (the thought says why)."""
        symbol = decision.symbol
        price = Decimal(repr(reference_price))
        marks = dict(self.marks)
        marks[symbol] = price
        portfolio = self.manager.portfolio
        context = RiskContext(
            ts_ns=decision.ts_ms * _MS_TO_NS,
            equity=portfolio.equity(marks),
            price=price,
            instrument=self.manager.instruments[symbol],
            exposures=exposures_from_portfolio(portfolio, marks),
            client_order_id=self.expected_client_order_id(),
        )
        verdict = self.engine.evaluate(decision, context)
        self.last_verdict = verdict
        thought = verdict.thought
        if self.journal is not None:
            self.journal.record_thought(
                thought.thought,
                symbol=symbol,
                strategy=thought.strategy,
                metadata=thought.metadata,
                ts_ns=context.ts_ns,
            )
        if self.on_verdict is not None:
            self.on_verdict(verdict)
        if not verdict.approved:
            self.rejected += 1
            self.manager.reject(decision, f"risk {verdict.rule}: {verdict.reason}")
            log.info("risk_rejected", symbol=symbol, rule=str(verdict.rule), reason=verdict.reason)
            return None
        self.approved += 1
        return verdict.quantity

    def release(self, client_order_id: str) -> None:
        """Release an entry's reservation (final order, or an intent that was never sent)."""
        if client_order_id in self.engine.pending():
            self.engine.release(client_order_id)
