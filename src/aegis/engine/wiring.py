"""Build the parts of one ``aegis run`` from ``Settings``: venue, pipeline and runtime.

``RunSession`` (``aegis.engine.session``) owns the run's lifecycle (emulator, clocks, tasks,
stop, shutdown); this module only turns settings into the objects it runs, so each choice
(paper or live venue, sizer, starting cash, runtime options) is made in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from aegis.config import Settings
from aegis.engine.assembly import DurableParts, build_durable
from aegis.engine.clock import wall_clock_ms
from aegis.engine.metrics import RuntimeMetrics
from aegis.engine.paper import PaperVenue
from aegis.engine.paper_funding import FundedPaperVenue
from aegis.engine.pipeline import SyncVenue, TradingPipeline
from aegis.engine.preflight import PreflightReport
from aegis.engine.recovery import stored_next_sequence
from aegis.engine.runtime import RuntimeOptions, TradingRuntime
from aegis.engine.watchdog import fill_watchdog_for
from aegis.execution import OrderManager
from aegis.model.enums import PositionMode
from aegis.model.errors import ConfigError
from aegis.model.events import OrderUpdate
from aegis.model.order import Order
from aegis.model.portfolio import Portfolio
from aegis.risk import FixedFraction, FixedQuantity, Sizer
from aegis.store import Store
from aegis.strategies import Strategy, create_strategy
from aegis.venues.base import Venue
from aegis.venues.sim import FillModel


class _AsyncVenueOnly:
    """``SyncVenue`` seat of the pipeline in live mode: the runtime awaits the venue itself."""

    def submit(self, order: Order, ts_ns: int) -> list[OrderUpdate]:
        raise RuntimeError(f"live orders go through the async runtime, not submit({order!r})")

    def cancel(self, client_order_id: str, ts_ns: int) -> list[OrderUpdate]:
        raise RuntimeError(f"live cancels go through the async runtime ({client_order_id})")


def quote_of(symbol: str) -> str:
    """Return the quote (settlement) currency of a unified symbol."""
    pair, _, settle = symbol.partition(":")
    return settle or pair.partition("/")[2]


def make_sizer(settings: Settings) -> Sizer:
    """Return the sizer the sizing settings ask for."""
    sizing = settings.sizing
    if sizing.quantity is not None and sizing.fraction is not None:
        raise ConfigError("setting sizing.quantity and sizing.fraction are mutually exclusive")
    if sizing.quantity is not None:
        return FixedQuantity(sizing.quantity)
    return FixedFraction(Decimal(repr(sizing.fraction)) if sizing.fraction else Decimal("0.1"))


def fee_rate(settings: Settings) -> Decimal | None:
    """Return the paper fee rate override (``sizing.fee_bps`` / 10000), None for venue fees."""
    if settings.sizing.fee_bps is None:
        return None
    return Decimal(settings.sizing.fee_bps) / Decimal(10_000)


def build_venue(settings: Settings, exchange_settings: Any, base_url: str | None) -> Venue:
    """Return the ccxt venue of ``exchange_settings``, wrapped in a paper venue unless live."""
    from aegis.venues.ccxt import CcxtVenue

    ccxt_name = "binanceusdm" if exchange_settings.name == "emulator" else exchange_settings.name
    if exchange_settings.name == "emulator" and base_url is None:
        raise ConfigError("setting exchange.url is required for an external emulator")
    live = CcxtVenue(ccxt_name, exchange_settings, base_url=base_url)
    if exchange_settings.name == "emulator":
        # ccxt's client-side limiter spaces every REST call by the venue's rateLimit (50 ms
        # for binanceusdm): a --speed max replay confirming orders each candle waited there.
        # The emulator enforces Binance's weights itself and answers 429 / 418, which the
        # venue's shared RateLimitGate obeys for every caller; real exchanges keep it (OR5).
        live.exchange.enableRateLimit = False
    if settings.mode == "live":
        if not exchange_settings.has_credentials:
            raise ConfigError(
                "live mode needs exchange credentials: set AEGIS_EXCHANGE_API_KEY and "
                "AEGIS_EXCHANGE_API_SECRET (or exchange.secrets_file)"
            )
        return live
    quotes = {quote_of(s) for s in settings.market.symbols}
    cash = Decimal(settings.sizing.cash)
    model = FillModel(
        slippage_bps=settings.runtime.slippage_bps,
        seed=settings.runtime.seed,
        fee_rate_override=fee_rate(settings),
    )
    # OR3: the paper account settles perpetual funding as the backtest does
    return FundedPaperVenue(live, model, dict.fromkeys(sorted(quotes), cash))


def build_pipeline(
    settings: Settings, venue: Venue, report: PreflightReport, store: Store | None
) -> tuple[TradingPipeline, DurableParts]:
    """Return the order pipeline (book, order manager, sizer) and its durable parts."""
    symbols = tuple(settings.market.symbols)
    instruments = {s: venue.instruments()[s] for s in symbols}
    quotes = sorted({instrument.quote for instrument in instruments.values()})
    if isinstance(venue, PaperVenue):
        cash = dict.fromkeys(quotes, Decimal(settings.sizing.cash))
    else:
        cash = {q: Decimal(report.balances.get(q, Decimal(0))) for q in quotes}
    portfolio = Portfolio(cash, PositionMode.ONE_WAY)
    if store is None:
        raise RuntimeError("the store opens before the runtime is built")
    # PE4: the client-order sequence lives in the store, not in process memory
    manager = OrderManager(
        settings.bot_id,
        instruments,
        portfolio,
        next_sequence=stored_next_sequence(store, settings.database.tenant, settings.bot_id),
    )
    sync_venue: SyncVenue = venue.sim if isinstance(venue, PaperVenue) else _AsyncVenueOnly()
    sizer = make_sizer(settings)
    pipeline = TradingPipeline(manager, sizer, sync_venue)
    marks: dict[str, Decimal] = {}
    durable = build_durable(settings, store, manager, sizer, marks, venue,
                            reconcile=not isinstance(venue, PaperVenue))  # fmt: skip
    return pipeline, durable


def build_runtime(
    settings: Settings,
    venue: Venue,
    pipeline: TradingPipeline,
    durable: DurableParts,
    clock: Callable[[], int],
    sleep: Any,
    *,
    step_driven: bool,
) -> TradingRuntime:
    """Return the runtime trading ``pipeline`` on ``venue`` with one strategy per symbol."""
    symbols = tuple(settings.market.symbols)
    pipeline.entry_gate = durable.durability.gate
    strategies: dict[str, Strategy] = {
        s: create_strategy(settings.strategy.name, settings.strategy.params) for s in symbols
    }
    run = settings.runtime
    timeframe_ms = parse_timeframe_ms(settings.market.timeframe)
    options = RuntimeOptions(
        symbols=symbols,
        timeframe=settings.market.timeframe,
        confirm_before_decision=step_driven,
        warmup_candles=run.warmup_candles,
        shutdown_timeout_s=run.shutdown_timeout_s,
        poll_interval_s=timeframe_ms / 1000 if step_driven else 1.0,
        user_stream_silence_s=run.user_stream_silence_s,
        gap_retry_delay_s=0.0 if step_driven else 1.0,
    )
    runtime = TradingRuntime(
        venue, pipeline, strategies, options,
        clock=clock, sleep=sleep, wall_clock=wall_clock_ms, metrics=RuntimeMetrics(),
        durability=durable.durability,
    )  # fmt: skip
    durable.durability.gate.marks = runtime.last_close  # equity at the last closes
    # live fills from a stream only: none in paper mode nor in step-driven replays
    runtime.fill_watchdog = fill_watchdog_for(runtime, run.fill_watchdog_s)
    return runtime


def parse_timeframe_ms(timeframe: str) -> int:
    """Return ``timeframe`` in milliseconds; ``ConfigError`` names the setting when invalid."""
    from aegis.data import parse_timeframe

    try:
        return parse_timeframe(timeframe)
    except ValueError as error:
        raise ConfigError(f"setting market.timeframe = {timeframe!r}: {error}") from error
