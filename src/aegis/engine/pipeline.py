"""The one order pipeline shared by backtest, paper and live trading (BT1).

decision -> sizing -> order manager -> venue; venue updates -> order manager -> portfolio.
The venue sits behind :class:`SyncVenue`, the synchronous shape of the simulated exchange; an
async runner adapts a real venue by awaiting its calls and feeding the updates to
:meth:`TradingPipeline.on_updates`, so this object never changes between modes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Protocol

from aegis.execution import OrderManager
from aegis.model.errors import OrderRejected
from aegis.model.events import Fill, OrderEventKind, OrderUpdate
from aegis.model.order import Order
from aegis.model.signals import Decision
from aegis.risk import Sizer

FillListener = Callable[[Fill], None]
#: Pre-trade check of an entry (risk, RK1/RK2): the approved quantity, or None when refused
#: (the gate records why). Called after planning, before sizing and the intent write.
EntryGate = Callable[[Decision, float], Decimal | None]
_ZERO = Decimal(0)
_REJECT = OrderEventKind.REJECT


class SyncVenue(Protocol):
    """The part of a venue the pipeline drives: submit and cancel, answering with updates."""

    def submit(self, order: Order, ts_ns: int) -> list[OrderUpdate]:
        """Send ``order``; return the venue's immediate answer (ACCEPT or REJECT...)."""
        ...

    def cancel(self, client_order_id: str, ts_ns: int) -> list[OrderUpdate]:
        """Ask the venue to cancel an order; return the resulting updates."""
        ...


class TradingPipeline:
    """Routes decisions to orders and venue updates to the book; the same object in every mode."""

    def __init__(
        self,
        order_manager: OrderManager,
        sizer: Sizer,
        venue: SyncVenue,
        *,
        on_fill: FillListener | None = None,
    ) -> None:
        self.order_manager = order_manager
        self.sizer = sizer
        self.venue = venue
        self.on_fill = on_fill
        self.entry_gate: EntryGate | None = None
        self.fills: list[Fill] = []
        self.decisions: list[Decision] = []
        # Decisions whose order is prepared but whose venue answer is not applied yet.
        self._submitting: dict[str, Decision] = {}

    def on_decision(self, decision: Decision, reference_price: float, ts_ns: int) -> Order | None:
        """Act on a strategy decision taken at ``reference_price`` (the bar's close).

        Returns the submitted order, or ``None`` when the decision was ignored or rejected; in
        that case the order manager holds the decision with the reason in its thought. The same
        as :meth:`prepare_order`, the venue's ``submit``, then :meth:`complete_submission`.
        """
        order = self.prepare_order(decision, reference_price, ts_ns)
        if order is None:
            return None
        return self.complete_submission(order, self.venue.submit(order, ts_ns))

    def prepare_order(self, decision: Decision, reference_price: float, ts_ns: int) -> Order | None:
        """Plan, size and create the order for ``decision``, write its intent, mark it submitted.

        Everything before the venue call: an async runner awaits the venue's answer itself and
        hands it to :meth:`complete_submission`. Returns ``None`` when the decision was ignored
        or rejected (the order manager holds it with the reason in its thought).
        """
        manager = self.order_manager
        plan = manager.plan(decision)
        if plan is None:
            return None
        quantity = plan.exit_quantity
        gate = self.entry_gate if quantity is None else None
        if gate is not None:
            quantity = gate(decision, reference_price)
            if quantity is None:
                return None
        instrument = manager.instruments[decision.symbol]
        sizer = self.sizer
        needs_equity = quantity is None and sizer.uses_equity
        # Float -> Decimal only when something reads the price (hot path of the backtester).
        price = (
            Decimal(repr(reference_price))
            if needs_equity or instrument.min_notional > _ZERO
            else None
        )
        try:
            if quantity is None:
                equity = (
                    manager.portfolio.equity({decision.symbol: price})
                    if needs_equity and price is not None
                    else _ZERO
                )
                quantity = sizer.size(decision, price or _ZERO, equity, instrument)
            order = manager.create(plan, quantity, ts_ns, reference_price=price)
        except OrderRejected as exc:
            manager.reject(decision, str(exc))
            if gate is not None:
                # The gate reserved capital under the next client id; an id reserves once
                # (RK2), so the refused intent's id is never handed to another order.
                manager.skip_sequence()
            return None
        submitted = manager.submit(order, ts_ns)
        # The decision travels to complete_submission by client id: the order does not carry it.
        self._submitting[submitted.client_order_id] = decision
        return submitted

    def complete_submission(self, order: Order, updates: list[OrderUpdate]) -> Order:
        """Apply the venue's immediate answer to ``order`` (from :meth:`prepare_order`).

        A REJECT records the decision as refused; otherwise the decision joins ``decisions``.
        Returns the order as the order manager now holds it.
        """
        coid = order.client_order_id
        decision = self._submitting.pop(coid, None)
        accepted = True
        for update in updates:
            if update.kind is _REJECT:
                accepted = False
                if decision is not None:
                    self.order_manager.reject(decision, f"venue rejected {coid}: {update.reason}")
        if accepted and decision is not None:
            self.decisions.append(decision)
        # The order as the manager left it, taken from apply(): with retain_history=False a
        # finished order is no longer in the manager's map.
        apply, fills, on_fill = self.order_manager.apply, self.fills, self.on_fill
        current = order
        for update in updates:
            applied = apply(update)
            fill = update.fill
            if fill is not None:
                fills.append(fill)
                if on_fill is not None:
                    on_fill(fill)
            if update.client_order_id == coid:
                current = applied
        return current

    def on_updates(self, updates: Iterable[OrderUpdate]) -> None:
        """Apply venue updates in order; fills reach the portfolio and the fill listener."""
        # locals: this loop carries every fill of a backtest
        apply, fills, on_fill = self.order_manager.apply, self.fills, self.on_fill
        for update in updates:
            apply(update)
            fill = update.fill
            if fill is not None:
                fills.append(fill)
                if on_fill is not None:
                    on_fill(fill)

    def cancel(self, client_order_id: str, ts_ns: int) -> None:
        """Cancel an open order through the venue and apply what it answers."""
        self.on_updates(self.venue.cancel(client_order_id, ts_ns))
