"""The entry gate every mode shares (BT1, RK1-RK2): an entry passes ``RiskEngine`` before its order.

``RiskEntryGate`` is what ``TradingPipeline.entry_gate`` calls in a backtest, a paper and a live
run: it builds the ``RiskContext`` from the book (equity and exposures at the last closes, the
client order id the entry will carry), asks the engine, records a refused entry on the book with
the rule and the reason (ST3), and returns the approved quantity. Exits never reach it: risk
never blocks reducing exposure. The runtime's ``aegis.engine.RiskGate`` adds the journal.

``LegRoundTrips`` feeds the loss cooldown where no journal tracks round trips (the backtest).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Final, Protocol

from aegis.model.events import Fill
from aegis.model.ids import client_order_id
from aegis.model.instrument import Instrument
from aegis.model.portfolio import Portfolio
from aegis.model.signals import Decision
from aegis.risk.engine import RiskContext, RiskEngine, RiskVerdict, exposures_from_portfolio

_MS_TO_NS: Final = 1_000_000
_ZERO: Final = Decimal(0)
_NO_MARKS: Final[Mapping[str, Decimal]] = MappingProxyType({})


class GatedBook(Protocol):
    """What the gate reads from the order manager (``aegis.execution.OrderManager``)."""

    bot_id: str
    next_sequence: int
    portfolio: Portfolio

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        """Return the instruments the bot trades, by symbol."""
        ...

    def reject(self, decision: Decision, reason: str) -> None:
        """Keep ``decision`` as refused, with ``reason`` in its thought."""
        ...


class RiskEntryGate:
    """The pipeline's entry gate; see the module docstring.

    ``marks`` are the last closes of the bot's symbols (the runtime keeps them up to date; a
    single-symbol backtest passes none: the entry's own price is its symbol's mark).
    ``on_verdict`` sees every verdict, approved or not.

    ``live_orders`` (the backtest's order manager ``orders``, which holds only unfinished orders)
    makes the gate release, before judging an entry, the reservations of entries whose orders
    have left it. Nothing reads a reservation between two judgements, so this equals releasing
    each when its order ends (the runtime does that from the journal) at one check per entry
    instead of one per order update.
    """

    def __init__(
        self,
        engine: RiskEngine,
        manager: GatedBook,
        marks: Mapping[str, Decimal] | None = None,
        *,
        on_verdict: Callable[[RiskVerdict], None] | None = None,
        live_orders: Mapping[str, object] | None = None,
    ) -> None:
        self.engine = engine
        self.manager = manager
        self.marks: Mapping[str, Decimal] = {} if marks is None else marks
        self.on_verdict = on_verdict
        self.live_orders = live_orders
        # a subclass that keeps thoughts overrides ``record``; the base one is not even called
        self._records = type(self).record is not RiskEntryGate.record
        self.approved = 0
        self.rejected = 0
        self.last_verdict: RiskVerdict | None = None

    def expected_client_order_id(self) -> str:
        """Return the client id the next order of the manager will carry (its reservation key)."""
        return client_order_id(self.manager.bot_id, self.manager.next_sequence)

    def __call__(self, decision: Decision, reference_price: float) -> Decimal | None:
        """Evaluate an entry; return the approved quantity or None (the thought says why)."""
        engine = self.engine
        live_orders = self.live_orders
        if live_orders is not None:
            engine.release_missing(live_orders)
        symbol = decision.symbol
        price = Decimal(repr(reference_price))
        manager = self.manager
        portfolio = manager.portfolio
        if portfolio.is_flat():
            # a flat book (the usual entry): equity is the cash, there is nothing to mark
            equity = portfolio.equity(_NO_MARKS)
            exposures: Mapping[str, Decimal] = _NO_MARKS
        else:
            marks = dict(self.marks)
            marks[symbol] = price
            equity = portfolio.equity(marks)
            exposures = exposures_from_portfolio(portfolio, marks)
        ts_ns = decision.ts_ms * _MS_TO_NS
        context = RiskContext(
            ts_ns,
            equity,
            price,
            manager.instruments[symbol],
            exposures,
            client_order_id(manager.bot_id, manager.next_sequence),
        )
        verdict = engine.evaluate(decision, context)
        self.last_verdict = verdict
        if self._records:
            self.record(verdict, ts_ns)
        if self.on_verdict is not None:
            self.on_verdict(verdict)
        if not verdict.approved:
            self.rejected += 1
            manager.reject(decision, f"risk {verdict.rule}: {verdict.reason}")
            return None
        self.approved += 1
        return verdict.quantity

    def record(self, verdict: RiskVerdict, ts_ns: int) -> None:
        """Keep the verdict's thought beyond the book (the runtime journals it); here: nothing."""

    def release(self, client_order_id: str) -> None:
        """Release an entry's reservation (final order, or an intent that was never sent)."""
        if self.engine.is_pending(client_order_id):
            self.engine.release(client_order_id)


class LegRoundTrips:
    """Report each closed round trip's net PnL to the engine's loss cooldown, from the book.

    A round trip of a position leg lasts from the fill that opens it to the fill that brings it
    back to zero; its PnL is the leg's realised PnL less its fees over that span (as the
    runtime's journal counts it), dated at the closing fill. Call with every applied fill.
    """

    __slots__ = ("_closed_at", "engine", "portfolio")

    def __init__(self, engine: RiskEngine, portfolio: Portfolio) -> None:
        self.engine = engine
        self.portfolio = portfolio
        # (symbol, side) -> the leg's (realised PnL, fees) when its last round trip closed
        self._closed_at: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}

    def __call__(self, fill: Fill) -> None:
        """Account ``fill`` (already applied to the portfolio)."""
        symbol = fill.symbol
        for leg in self.portfolio.legs(symbol):
            if leg.quantity:
                continue
            key = (symbol, str(leg.side))
            realised, fees = self._closed_at.get(key, (_ZERO, _ZERO))
            if (leg.realised_pnl, leg.fees_paid) == (realised, fees):
                continue  # flat before this fill too
            self._closed_at[key] = (leg.realised_pnl, leg.fees_paid)
            pnl = (leg.realised_pnl - realised) - (leg.fees_paid - fees)
            self.engine.record_round_trip(pnl, fill.ts_ns)
