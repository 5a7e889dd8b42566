"""The paper / live runtime: feeds -> strategy -> pipeline -> venue, and venue -> book (OP3).

One ``TradingRuntime`` runs every symbol of a bot over one ``Venue``. Paper mode passes a
``PaperVenue`` (fills from the simulator), live mode a ``CcxtVenue`` (fills from the exchange);
nothing else differs. For each symbol's closed candle (gap-free, in order, from ``CandleFeed``):
fills due on it are applied first (the simulator's, or the venue's confirmed by REST when
``confirm_before_decision``), then the strategy decides (never on a stale symbol), then
``TradingPipeline.prepare_order`` -> ``await venue.submit`` -> ``complete_submission``. Order
updates from the user stream and from every resync go through one idempotent ``UpdateApplier``;
a live runtime's ``fill_watchdog`` (``aegis.engine.watchdog``) looks up by REST the immediate
orders whose outcome the stream should have delivered already.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import structlog

from aegis.data import RingBuffers, parse_timeframe
from aegis.data.feeds import (
    CandleFeed,
    GapPolicy,
    NowMs,
    RequestBudget,
    Resync,
    Sleep,
    SymbolHealth,
    UserStreamSupervisor,
)
from aegis.engine.applier import UpdateApplier
from aegis.engine.crashpoints import crash_point
from aegis.engine.durable import Durability
from aegis.engine.journal import DatabaseUnavailable
from aegis.engine.metrics import RuntimeMetrics
from aegis.engine.paper import PaperVenue
from aegis.engine.pipeline import TradingPipeline
from aegis.engine.record import RunRecord
from aegis.engine.sync import OrderSync
from aegis.engine.venue_stream import VenueUserStream
from aegis.model.candle import Candle
from aegis.model.enums import PositionSide
from aegis.model.errors import OrderRejected, TransientVenueError, VenueError
from aegis.model.events import Fill, OrderEventKind, OrderUpdate
from aegis.model.order import Order
from aegis.model.signals import Action, Decision
from aegis.risk import BreakerKind
from aegis.strategies import Strategy
from aegis.venues.base import Venue, VenueOrder

if TYPE_CHECKING:
    from aegis.engine.watchdog import FillWatchdog

log = structlog.get_logger(__name__)

_MS_TO_NS: Final = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class RuntimeOptions:
    """How the runtime behaves.

    Attributes:
        symbols / timeframe: what is traded.
        confirm_before_decision: before deciding on a candle, confirm the symbol's pending
            orders through REST (deterministic replays: a fill is never "still in flight").
        warmup_candles: REST history fed to the strategies at start (no orders from it).
        shutdown_timeout_s: bound for bringing in-flight orders to a known state (OP2).
        ring_capacity: candles kept per symbol.
        poll_interval_s: REST poll cadence of the candle feed while a socket is down.
        user_stream_silence_s: a user stream silent this long (wall seconds) is restarted.
        gap_retry_delay_s: pause between back-fill attempts of a gap (feed clock seconds; 0 in
            stepped replays, whose clock only moves between steps).
    """

    symbols: tuple[str, ...]
    timeframe: str
    confirm_before_decision: bool = False
    warmup_candles: int = 0
    shutdown_timeout_s: float = 10.0
    ring_capacity: int = 500
    poll_interval_s: float = 1.0
    user_stream_silence_s: float = 600.0
    gap_retry_delay_s: float = 1.0


class TradingRuntime:
    """Trade ``strategies`` (one per symbol) on ``venue``; see the module docstring."""

    def __init__(
        self,
        venue: Venue,
        pipeline: TradingPipeline,
        strategies: Mapping[str, Strategy],
        options: RuntimeOptions,
        *,
        clock: NowMs,
        sleep: Sleep = asyncio.sleep,
        wall_clock: NowMs,
        metrics: RuntimeMetrics | None = None,
        durability: Durability | None = None,
    ) -> None:
        missing = [s for s in options.symbols if s not in strategies]
        if missing:
            raise ValueError(f"no strategy for symbols {missing}")
        self.venue = venue
        self.pipeline = pipeline
        self.strategies = dict(strategies)
        self.options = options
        self.clock = clock
        self.wall_clock = wall_clock
        #: live runtimes with streamed fills: started by the session as ``fill-watchdog``
        self.fill_watchdog: FillWatchdog | None = None
        #: client order ids whose ``venue.submit`` has not returned yet
        self.in_flight: set[str] = set()
        self.timeframe_ms = parse_timeframe(options.timeframe)
        self.metrics = metrics if metrics is not None else RuntimeMetrics()
        portfolio = pipeline.order_manager.portfolio
        self.record = RunRecord.for_symbols(
            options.symbols, sum(portfolio.cash.values(), Decimal(0))
        )
        self.durability = durability
        self.applier = UpdateApplier(
            pipeline, on_applied=None if durability is None else durability.on_applied
        )
        self.order_sync = OrderSync(
            venue, self.applier, self.metrics, recorded=durability,
            on_adopted_fill=self._on_adopted_fill,
        )  # fmt: skip
        self.buffers = RingBuffers(options.ring_capacity, timeframe_ms=self.timeframe_ms)
        self.is_deciding = True
        #: awaited at the candle boundary after a user-stream reconnect (not the first connect)
        self.after_resync: Callable[[], Awaitable[None]] | None = None
        self._reconcile_due = False
        #: candle open time per symbol up to which a restored strategy has already decided
        self.resume_after_ms: dict[str, int] = {}
        self.is_warming = False
        self.processed_ms: dict[str, int] = {}
        self.last_close: dict[str, Decimal] = {}
        self._processed = asyncio.Condition()
        self._epochs: dict[str, int] = dict.fromkeys(options.symbols, 0)
        self._submitting = 0
        self._idle = asyncio.Event()
        self._idle.set()
        pipeline.on_fill = self._on_fill
        self.feed = CandleFeed(
            venue,
            options.symbols,
            options.timeframe,
            clock=clock,
            sleep=sleep,
            on_candle=self.on_candle,
            on_health=self.on_health,
            poll_interval_s=options.poll_interval_s,
            gap_policy=GapPolicy(retry_delay_s=options.gap_retry_delay_s),
            # REST limits are in real seconds, whatever clock the candles follow (replays).
            request_budget=RequestBudget(5.0, now_ms=wall_clock, sleep=asyncio.sleep),
        )
        self.user_stream: UserStreamSupervisor[VenueOrder] = UserStreamSupervisor(
            VenueUserStream(venue),
            options.symbols,
            clock=wall_clock,
            on_update=self.on_stream_update,
            on_resync=self.on_resync,
            silence_timeout_s=options.user_stream_silence_s,
        )

    # ------------------------------------------------------------------ candles
    async def warm_up(self) -> None:
        """Feed recent REST history to the strategies (no orders) and anchor the feed on it."""
        count = self.options.warmup_candles
        if count <= 0:
            return
        self.is_warming = True
        try:
            for symbol in self.options.symbols:
                since = self.clock() - (count + 1) * self.timeframe_ms
                candles = await self.venue.fetch_candles(
                    symbol, self.options.timeframe, since, count + 1
                )
                await self.feed.ingest(symbol, candles)
        finally:
            self.is_warming = False

    async def on_candle(self, symbol: str, candle: Candle) -> None:
        """React to one closed candle of ``symbol`` (called by the feed, in order, no holes)."""
        received = time.perf_counter()
        self.buffers.append(symbol, candle)
        self.last_close[symbol] = Decimal(repr(candle.close))
        if not self.is_warming:
            symbol_record = self.record.symbols[symbol]
            if not symbol_record.ts_ms:
                self._open_record(symbol)
            symbol_record.add_candle(candle.ts_ms, candle.close)
            await self._fills_due(symbol, candle)
            if self._reconcile_due and self.after_resync is not None:
                self._reconcile_due = False
                await self.after_resync()
        if candle.ts_ms <= self.resume_after_ms.get(symbol, -1):
            # restored from a snapshot (PE3): the strategy decided on this candle already
            await self._mark_processed(symbol, candle.ts_ms)
            return
        strategy = self.strategies[symbol]
        decision = strategy.on_candle(candle, symbol)
        if not self.is_warming and self.is_deciding and not self.feed.is_stale(symbol):
            self.metrics.decisions.labels(action=decision.action.name).inc()
            durability = self.durability
            if durability is not None and not durability.may_decide:
                # the database cannot take an intent: no new decision until it is back
                log.warning("decision_skipped_database_down", symbol=symbol,
                            action=decision.action.name)  # fmt: skip
            elif decision.action is not Action.HOLD:
                self.record.add_decision(decision)
                await self._act(decision, candle, received)
        await self._mark_processed(symbol, candle.ts_ms)

    async def _fills_due(self, symbol: str, candle: Candle) -> None:
        venue = self.venue
        if isinstance(venue, PaperVenue):
            self.applier.apply(venue.on_candle(symbol, candle))
        elif self.options.confirm_before_decision:
            await self.order_sync.confirm(symbol)

    async def _act(self, decision: Decision, candle: Candle, received: float) -> None:
        ts_ns = (candle.ts_ms + self.timeframe_ms) * _MS_TO_NS
        durability = self.durability
        # The journal's writer thread starts nothing (a thought...) until the order has left:
        # it would compete with this path for the GIL (issue 3 section 7). Bounded in time.
        with nullcontext() if durability is None else durability.journal.hold_writes():
            order = self.prepare(decision, candle.close, ts_ns)
            if order is None:
                self._count_rejected_thought()
                return
            self._submitting += 1
            self._idle.clear()
            try:
                await self.submit(order)
            finally:
                self._submitting -= 1
                if not self._submitting:
                    self._idle.set()
        self.metrics.decision_latency.observe(time.perf_counter() - received)

    def prepare(self, decision: Decision, reference_price: float, ts_ns: int) -> Order | None:
        """Risk, exit lock (OR4), intent write (OR2): the order ready for the wire, or None."""
        durability = self.durability
        if durability is None:
            return self.pipeline.prepare_order(decision, reference_price, ts_ns)
        key = _exit_key(decision)
        if key is not None and not durability.locks.acquire(key):
            self.pipeline.order_manager.reject(
                decision, f"an exit of position {key[0]} {key[1]} is already in flight (OR4)"
            )
            return None
        expected = durability.gate.expected_client_order_id()
        try:
            # an entry's reservation and its intent: one transaction, one sync (OR2 and RK2)
            with durability.journal.intent_batch():
                order = self.pipeline.prepare_order(decision, reference_price, ts_ns)
        except DatabaseUnavailable as error:
            # OR2: an intent that could not be written is never sent
            log.error("order_not_sent_database_down", symbol=decision.symbol, error=str(error))
            order = None
        if order is None or order.client_order_id != expected:
            durability.gate.release(expected)
        if key is not None:
            if order is None:
                durability.locks.release(key)
            else:
                durability.locks.bind(key, order.client_order_id)
        return order

    async def quiesce(self) -> None:
        """Stop deciding and wait until no submission is in flight (shutdown, OP2)."""
        self.is_deciding = False
        await self._idle.wait()

    async def submit(self, order: Order) -> Order:
        """Send a prepared order and apply the venue's answer (uncertain outcomes stay pending)."""
        self.metrics.orders_submitted.labels(symbol=order.symbol).inc()
        crash_point("before_submit")  # intent committed, venue not called yet
        self.in_flight.add(order.client_order_id)  # its answer is awaited: nothing is overdue
        try:
            update = await self.venue.submit(order)
        except OrderRejected as error:
            update = OrderUpdate(
                order.client_order_id, OrderEventKind.REJECT, order.updated_ns, reason=str(error)
            )
            self.metrics.rejects.labels(reason=str(getattr(error, "reason", "filters"))).inc()
        except (TransientVenueError, VenueError) as error:
            # The order may or may not exist on the venue: it stays SUBMITTED and the order sync
            # looks it up by client id (OR2) instead of sending it again.
            log.warning("order_outcome_unknown", client_order_id=order.client_order_id,
                        symbol=order.symbol, error=str(error))  # fmt: skip
            return order
        else:
            if update.kind is OrderEventKind.REJECT:
                self.metrics.rejects.labels(reason="venue").inc()
        finally:
            # no await from here until the answer is applied: the watchdog cannot slip in
            self.in_flight.discard(order.client_order_id)
        crash_point("after_submit_before_ack")  # venue answered, answer not applied yet
        fresh = self.applier.applicable([update])
        result = self.pipeline.complete_submission(order, fresh)
        self.applier.notify(fresh)
        log.info(
            "order_submitted",
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=str(order.side),
            quantity=str(order.quantity),
            status=str(result.status),
        )
        return result

    def _count_rejected_thought(self) -> None:
        thoughts = self.pipeline.order_manager.thoughts
        if thoughts and thoughts[-1].metadata.get("outcome") == "rejected":
            self.metrics.rejects.labels(reason="local_validation").inc()

    async def _mark_processed(self, symbol: str, ts_ms: int) -> None:
        async with self._processed:
            self.processed_ms[symbol] = ts_ms
            self._processed.notify_all()

    async def wait_processed(self, symbol: str, ts_ms: int, timeout_s: float) -> bool:
        """Wait until the candle opened at ``ts_ms`` (or a later one) of ``symbol`` is done."""

        def done() -> bool:
            return self.processed_ms.get(symbol, -1) >= ts_ms

        async with self._processed:
            try:
                await asyncio.wait_for(self._processed.wait_for(done), timeout_s)
            except TimeoutError:
                return done()
        return True

    async def on_health(self, health: SymbolHealth) -> None:
        """Drop derived state when a series restarts after a gap that was never filled."""
        symbol = health.symbol
        if health.epoch != self._epochs.get(symbol, 0):
            self._epochs[symbol] = health.epoch
            self.strategies[symbol].reset()
            self.buffers[symbol].clear()
            log.warning("strategy_reset_after_gap", symbol=symbol, epoch=health.epoch)
        self.metrics.feed_stale.labels(symbol=symbol).set(1 if health.is_stale else 0)
        if health.stale_reason is not None and self.durability is not None:
            # RK3: "waiting for the first candle" is not stale data; a gap or silence is
            reason = f"{symbol} stale: {health.stale_reason}"
            self.durability.trip(BreakerKind.STALE_DATA, reason)

    # ------------------------------------------------------------------ orders from the venue
    def on_stream_update(self, update: OrderUpdate) -> None:
        """Apply one user-stream update (duplicates and stale events are dropped)."""
        applied = self.applier.apply([update])
        if applied and self.fill_watchdog is not None:
            self.fill_watchdog.note_applied(applied)  # delivered by the stream: no recovery

    async def on_resync(self, resync: Resync[VenueOrder]) -> None:
        """After every (re)connect: apply missed fills, then settle orders the venue closed."""
        self.applier.apply_fills([f for f in resync.fills if f.symbol in self.record.symbols])
        await self.order_sync.reconcile(resync.open_orders)
        if self.after_resync is not None and resync.reason != "start":
            # RC1: events may have been missed while the stream was down: a full reconciliation
            # at the next candle boundary, once in-flight fills are confirmed (no false drift)
            self._reconcile_due = True

    def _on_fill(self, fill: Fill) -> None:
        self.record.add_fill(fill)
        self.metrics.fills.labels(symbol=fill.symbol).inc()

    def _on_adopted_fill(self, fill: Fill) -> None:
        # A fill of an order placed by hand, taken over during the run: part of the run once
        # its symbol's opening state was taken (before that, the opening position holds it).
        symbol_record = self.record.symbols.get(fill.symbol)
        if symbol_record is not None and symbol_record.ts_ms:
            self.pipeline.fills.append(fill)
            self._on_fill(fill)

    def _open_record(self, symbol: str) -> None:
        """Take the position and equity the run starts with on ``symbol`` (the summary's start)."""
        symbol_record = self.record.symbols[symbol]
        manager = self.pipeline.order_manager
        symbol_record.opening_net = manager.net_quantity(symbol)
        try:
            symbol_record.opening_equity = manager.portfolio.equity(self.last_close)
        except KeyError:
            # an open leg of a symbol without a price yet: the summary keeps the initial cash
            symbol_record.opening_equity = None

    # ------------------------------------------------------------------ state
    def equity(self) -> Decimal:
        """Return the portfolio's equity marked at the last closes."""
        return self.pipeline.order_manager.portfolio.equity(self.last_close)


def _exit_key(decision: Decision) -> tuple[str, PositionSide] | None:
    if decision.action is Action.EXIT_LONG:
        return decision.symbol, PositionSide.LONG
    if decision.action is Action.EXIT_SHORT:
        return decision.symbol, PositionSide.SHORT
    return None
