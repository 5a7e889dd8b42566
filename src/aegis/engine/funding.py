"""Book perpetual funding payments in the paper / live runtime (OR3, PE4).

``FundingBook`` is the one place a payment enters the runtime: it dedupes by the venue's payment
id (ids booked before a restart are read back from the store), applies the payment to the
``Portfolio`` (cash, the open legs' ``funding_received``: the risk engine sizes on the cash the
exchange really left), shares it to the journal's position legs, persists payment and legs in
one transaction (through the journal's ordered writer, so it queues behind earlier fills and
waits in the backlog while the database is away), logs one ``funding_booked`` line and counts
it in the runtime's Prometheus registry.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge

from aegis.execution.reconcile import PositionBook
from aegis.model.enums import OrderSide
from aegis.model.events import Fill, FundingPayment
from aegis.model.instrument import Instrument
from aegis.model.portfolio import Portfolio
from aegis.model.position import Position
from aegis.store import FundingLedger, StoredFunding
from aegis.venues.base import VenueFundingPayment

if TYPE_CHECKING:
    from aegis.engine.journal import DurableJournal

log = structlog.get_logger(__name__)

_ZERO: Final = Decimal(0)
_MS_TO_NS: Final = 1_000_000
# A payment is charged on the position held at its funding time's whole second, before any
# fill at that instant (Binance stamps it a few ms late; the sim and round trips agree).
_SETTLE_GRID_NS: Final = 1_000_000_000


def stored_from_venue(payment: VenueFundingPayment) -> StoredFunding:
    """Return the booking record of a payment the venue reported (rate 0 when not stated)."""
    has_rate = payment.rate is not None and payment.mark_price is not None
    model = FundingPayment(
        payment.symbol,
        payment.rate if payment.rate is not None else _ZERO,
        payment.mark_price if payment.mark_price is not None else _ZERO,
        payment.amount,
        payment.ts_ms * _MS_TO_NS,
    )
    return StoredFunding(payment.payment_id, payment.asset, model, has_rate)


class FundingMetrics:
    """Funding counters and gauges, registered in the runtime's own registry (API3)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry if registry is not None else CollectorRegistry()
        self.registry = registry
        self.payments = Counter(
            "aegis_funding_payments", "Funding payments booked.", ["symbol"], registry=registry
        )
        self.received = Gauge(
            "aegis_funding_received",
            "Net funding received (quote currency; negative: paid), booked this run.",
            ["symbol"],
            registry=registry,
        )
        self.duplicates = Counter(
            "aegis_funding_duplicates",
            "Funding payments seen again and not booked (already booked).",
            registry=registry,
        )
        self.skipped = Counter(
            "aegis_funding_skipped",
            "Funding payments not booked, by reason.",
            ["reason"],
            registry=registry,
        )
        self.polls = Counter(
            "aegis_funding_polls", "Funding fetches, by trigger.", ["trigger"], registry=registry
        )
        self.poll_errors = Counter(
            "aegis_funding_poll_errors", "Funding fetches that failed.", registry=registry
        )


class FundingBook:
    """The bot's booked funding; see the module docstring.

    Args:
        portfolio: the runtime's portfolio (``apply_funding``).
        instruments: the traded instruments (quote currency, the journal's position book).
        tenant / bot_id: whose payments these are.
        ledger: the store's funding table (None: nothing persisted, e.g. unit tests).
        journal: the runtime's journal; when given, payments are written through its ordered
            writer and its position legs get their share.
        metrics: where booked payments are counted.
        clock_ns: wall clock stamping ``recorded_ns``.
    """

    def __init__(
        self,
        portfolio: Portfolio,
        instruments: Mapping[str, Instrument],
        *,
        tenant: str,
        bot_id: str,
        ledger: FundingLedger | None = None,
        journal: DurableJournal | None = None,
        metrics: FundingMetrics | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.portfolio = portfolio
        self.instruments = instruments
        self.tenant = tenant
        self.bot_id = bot_id
        self.ledger = ledger
        self.journal = journal
        self.metrics = metrics if metrics is not None else FundingMetrics()
        self.clock_ns = clock_ns
        self._ids: set[str] = set()
        #: every booked payment (restored ones first), oldest first within each batch
        self.booked: list[StoredFunding] = []
        self.booked_this_run = 0

    # ----------------------------------------------------------------- queries
    def is_booked(self, payment_id: str) -> bool:
        """Return True when the payment with this venue id is already booked."""
        return payment_id in self._ids

    def last_booked_ms(self, symbol: str) -> int | None:
        """Return the funding time (UTC ms) of the newest booked payment of ``symbol``."""
        times = [b.payment.ts_ns for b in self.booked if b.payment.symbol == symbol]
        return max(times) // _MS_TO_NS if times else None

    @property
    def payments(self) -> list[FundingPayment]:
        """Return every booked payment, in time order (round trips, the summary)."""
        return sorted((b.payment for b in self.booked), key=lambda p: p.ts_ns)

    # ----------------------------------------------------------------- restart
    def restore(self, stored: Iterable[StoredFunding]) -> int:
        """Apply payments booked before a restart to the portfolio; return how many.

        Live mode: the venue's balances already hold them; the caller puts the venue's cash
        back afterwards (only the funding totals and legs are wanted from this).
        """
        count = 0
        for item in stored:
            if item.payment_id in self._ids:
                continue
            self._ids.add(item.payment_id)
            self.booked.append(item)
            self.portfolio.apply_funding(item.payment)
            count += 1
        return count

    # ----------------------------------------------------------------- booking
    def book(self, item: StoredFunding, *, source: str) -> bool:
        """Book one payment unless its id is booked already; return True when booked.

        Raises ``ValueError`` naming the payment when its asset is not the symbol's quote
        currency (the portfolio would book it in the wrong currency).
        """
        payment = item.payment
        if item.payment_id in self._ids:
            self.metrics.duplicates.inc()
            return False
        instrument = self.instruments.get(payment.symbol)
        if instrument is not None and item.asset != instrument.quote:
            raise ValueError(
                f"funding payment {item.payment_id} of {payment.symbol}: asset {item.asset!r} "
                f"is not the quote currency {instrument.quote!r}"
            )
        self._ids.add(item.payment_id)
        self.booked.append(item)
        self.booked_this_run += 1
        self.portfolio.apply_funding(payment)
        legs = self._share_to_journal(payment)
        self._persist(item, legs)
        symbol = payment.symbol
        self.metrics.payments.labels(symbol=symbol).inc()
        self.metrics.received.labels(symbol=symbol).inc(float(payment.amount))
        log.info(
            "funding_booked",
            tenant=self.tenant,
            bot_id=self.bot_id,
            source=source,
            payment_id=item.payment_id,
            symbol=symbol,
            amount=str(payment.amount),
            asset=item.asset,
            rate=str(payment.rate) if item.has_rate else None,
            mark_price=str(payment.mark_price) if item.has_rate else None,
            funding_ts_ms=payment.ts_ns // _MS_TO_NS,
        )
        return True

    def _share_to_journal(self, payment: FundingPayment) -> list[Position]:
        """Give the journal's open legs of the symbol their share; return them (to store)."""
        journal = self.journal
        if journal is None:
            return []
        legs = journal.book.legs()  # copies
        open_legs = [leg for leg in legs if leg.symbol == payment.symbol and leg.quantity]
        total = sum((leg.quantity for leg in open_legs), _ZERO)
        if not open_legs or not total:
            return []
        for leg in open_legs:
            leg.funding_received += payment.amount * leg.quantity / total
        # PositionBook has no funding entry point: rebuilt from its own legs (as recovery
        # does), so the next fill written for the symbol carries funding_received on.
        journal.book = PositionBook(legs, self.instruments)
        return [replace(leg) for leg in open_legs]

    def _persist(self, item: StoredFunding, legs: Sequence[Position]) -> None:
        ledger = self.ledger
        if ledger is None:
            return
        tenant, bot_id, now = self.tenant, self.bot_id, self.clock_ns()

        def write() -> None:
            ledger.record(tenant, bot_id, item, legs=legs, now_ns=now)

        journal = self.journal
        if journal is None:
            write()
        else:
            journal.submit(f"funding {item.payment_id}", write)


class PositionHistory:
    """The bot's net position per symbol at any past time, from its fills (deduplicated).

    ``fills`` are the fills known at start (the store's); ``live_fills`` is a list the runtime
    keeps appending to (``TradingPipeline.fills``). Used to tell whether a payment the
    account received was for a position this bot held.
    """

    def __init__(self, fills: Iterable[Fill], live_fills: Sequence[Fill]) -> None:
        self._fills = list(fills)
        self._live = live_fills

    def _all(self) -> Iterable[Fill]:
        seen: set[tuple[str, str]] = set()
        for fill in (*self._fills, *self._live):
            key = (fill.client_order_id, fill.trade_id)
            if key not in seen:
                seen.add(key)
                yield fill

    def first_fill_ms(self, symbol: str) -> int | None:
        """Return the time of the bot's first fill of ``symbol`` (None: never traded it)."""
        times = [f.ts_ns for f in self._all() if f.symbol == symbol]
        return min(times) // _MS_TO_NS if times else None

    def holds_at(self, symbol: str, ts_ms: int) -> bool:
        """Return True when a position in ``symbol`` was open at ``ts_ms``'s whole second,
        before any fill at that instant (hedge-mode legs count apart: a hedged pair pays)."""
        settle_ns = ts_ms * _MS_TO_NS
        settle_ns -= settle_ns % _SETTLE_GRID_NS
        legs: dict[object, Decimal] = {}
        for fill in self._all():
            if fill.symbol == symbol and fill.ts_ns < settle_ns:
                signed = fill.quantity if fill.side is OrderSide.BUY else -fill.quantity
                legs[fill.position_side] = legs.get(fill.position_side, _ZERO) + signed
        return any(legs.values())
