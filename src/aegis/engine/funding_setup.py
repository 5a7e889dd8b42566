"""Wire funding into one run: which source, the book, the poller, and the start-up catch-up.

Live (a venue that reports funding, ``FundingVenue``): the exchange's payment records. Paper
(``FundedPaperVenue``): the published rate settled on the simulated position. Built only when
the bot trades a linear perpetual.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

import structlog

from aegis.engine.durable import Durability
from aegis.engine.funding import FundingBook, FundingMetrics, PositionHistory
from aegis.engine.funding_poller import FundingPoller, FundingSource, LiveFundingSource
from aegis.engine.paper import PaperVenue
from aegis.engine.paper_funding import FundedPaperVenue, PaperFundingSource
from aegis.engine.runtime import TradingRuntime
from aegis.model.enums import MarketKind
from aegis.store import FundingLedger, Store
from aegis.venues.base import FundingVenue, Venue

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class FundingParts:
    """The funding side of one run."""

    book: FundingBook
    poller: FundingPoller
    ledger: FundingLedger


def perpetual_symbols(runtime: TradingRuntime) -> list[str]:
    """Return the runtime's linear-perpetual symbols (the ones that pay funding)."""
    instruments = runtime.pipeline.order_manager.instruments
    return [
        s for s in runtime.options.symbols if instruments[s].kind is MarketKind.LINEAR_PERPETUAL
    ]


def build_funding(
    runtime: TradingRuntime, venue: Venue, store: Store, durability: Durability
) -> FundingParts | None:
    """Return the funding parts of a run, None when nothing traded pays funding."""
    symbols = perpetual_symbols(runtime)
    if not symbols:
        return None
    source: FundingSource
    history: PositionHistory | None = None
    if isinstance(venue, FundedPaperVenue):
        source = PaperFundingSource(venue, venue.market_data)
    elif isinstance(venue, PaperVenue):
        log.warning("funding_not_settled", venue=venue.name, symbols=symbols,
                    reason="the paper venue does not settle funding")  # fmt: skip
        return None
    elif isinstance(venue, FundingVenue):
        source = LiveFundingSource(venue)
        history = PositionHistory((), runtime.pipeline.fills)
    else:
        log.warning("funding_not_booked", venue=venue.name, symbols=symbols,
                    reason="the venue reports no funding payments")  # fmt: skip
        return None
    manager = runtime.pipeline.order_manager
    ledger = FundingLedger(store)
    book = FundingBook(
        manager.portfolio,
        manager.instruments,
        tenant=durability.tenant,
        bot_id=durability.bot_id,
        ledger=ledger,
        journal=durability.journal,
        metrics=FundingMetrics(runtime.metrics.registry),
    )
    timeframe_ms = runtime.timeframe_ms

    async def wait_past(symbol: str, funding_ms: int, timeout_s: float) -> bool:
        # the candle that opens at the funding time: the venue settles before publishing it
        return await runtime.wait_processed(symbol, funding_ms - funding_ms % timeframe_ms,
                                            timeout_s)  # fmt: skip

    poller = FundingPoller(
        source, book, symbols, wait_past=wait_past, clock_ms=runtime.clock, history=history
    )
    return FundingParts(book, poller, ledger)


async def start_funding(
    parts: FundingParts,
    runtime: TradingRuntime,
    store: Store,
    *,
    cash: Mapping[str, Decimal] | None,
) -> None:
    """Restore the booked payments, learn the schedule, catch up on what was missed (PE4).

    ``cash``: live mode's venue balances, put back after booking (they already hold every
    payment the exchange made, booked before the restart or caught up now).
    """
    book = parts.book
    tenant, bot_id = book.tenant, book.bot_id
    restored = book.restore(await asyncio.to_thread(parts.ledger.payments, tenant, bot_id))
    if parts.poller.history is not None:
        fills = await asyncio.to_thread(store.fills, tenant, bot_id=bot_id)
        parts.poller.history = PositionHistory(fills, runtime.pipeline.fills)
    await parts.poller.schedule()
    caught_up = await parts.poller.catch_up("start")
    if cash is not None:
        book.portfolio.cash.update(cash)
    log.info("funding_restored", tenant=tenant, bot_id=bot_id, restored=restored,
             caught_up=caught_up, symbols=list(parts.poller.symbols))  # fmt: skip
