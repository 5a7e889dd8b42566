"""Run a strategy over history through the same pipeline live trading uses (BT1), fast.

Fast by design, without a second code path: the strategy's vectorised ``signals()`` is computed
once over the whole history, ``np.flatnonzero`` finds the bars with an actionable signal, and the
loop visits only those bars and the bars where the simulated exchange has something to do
(open orders: its ``next_event_index``). On every visited bar the real ``TradingPipeline``,
``OrderManager``, ``SimulatedExchange`` and ``Portfolio`` run with Decimal orders, and every
entry passes the same ``RiskEngine`` through the same entry gate (``aegis.risk.RiskEntryGate``)
as in paper and live trading, with in-memory capital reservations. A strategy without a
vectorised form (``signals()`` returns None) is walked bar by bar through ``on_candle`` and the
same pipeline. The equity curve is computed vectorised afterwards.
"""

from __future__ import annotations

import gc
import time
from array import array
from collections.abc import Callable
from decimal import Decimal
from operator import attrgetter
from typing import TYPE_CHECKING

import numpy as np

from aegis.backtest.config import BacktestConfig
from aegis.backtest.equity import equity_curve
from aegis.backtest.inputs import check_funding_target, funding_coverage
from aegis.backtest.metrics import compute_metrics
from aegis.backtest.result import BacktestResult
from aegis.backtest.round_trips import RoundTrips
from aegis.data import Candles, find_gaps, infer_timeframe
from aegis.engine import TradingPipeline
from aegis.execution import OrderManager
from aegis.model.candle import Candle
from aegis.model.enums import PositionMode
from aegis.model.errors import ConfigError, DataError
from aegis.model.instrument import Instrument
from aegis.model.portfolio import Portfolio
from aegis.model.signals import Action, Decision
from aegis.risk import InMemoryCapitalReservations, LegRoundTrips, RiskEngine, RiskEntryGate
from aegis.venues.sim import FillModel, SimulatedExchange

if TYPE_CHECKING:
    from aegis.model.events import FundingPayment, OrderUpdate
    from aegis.strategies import SignalFrame, Strategy

Progress = Callable[[int, int], None]
"""Called with (bars done, total bars) every few thousand bars."""

DEFAULT_SYMBOL = "UNKNOWN/USDT"
_PROGRESS_EVERY = 1 << 16
_MAX_GAP_WARNINGS = 5
_BY_TS_MS = attrgetter("ts_ms")


def _instrument(candles: Candles, config: BacktestConfig, warnings: list[str]) -> Instrument:
    if config.instrument is not None:
        # the instrument is authoritative; a differing file symbol is only worth a warning
        if candles.symbol not in (None, config.instrument.symbol) and config.symbol is None:
            warnings.append(
                f"data symbol {candles.symbol} differs from instrument "
                f"{config.instrument.symbol}; using the instrument"
            )
        return config.instrument
    symbol = config.symbol or candles.symbol
    if symbol is None:
        symbol = DEFAULT_SYMBOL
        warnings.append(f"no symbol given or found in the data; using {symbol}")
    instrument = Instrument.permissive(symbol)
    warnings.append(
        f"no instrument metadata for {symbol}: using a permissive instrument "
        "(no minimum notional, 1e-12 tick and step)"
    )
    return instrument


def _timeframe(candles: Candles, warnings: list[str]) -> int:
    timeframe_ms = candles.timeframe_ms or infer_timeframe(candles.ts_ms)
    if timeframe_ms is None:
        raise DataError(f"cannot infer the timeframe of {candles.source or 'the candles'}")
    gaps = find_gaps(candles.ts_ms, timeframe_ms)
    if gaps:
        missing = sum(gap.missing for gap in gaps)
        shown = ", ".join(
            f"{gap.missing} after ts_ms {gap.after_ms}" for gap in gaps[:_MAX_GAP_WARNINGS]
        )
        more = f" (+{len(gaps) - _MAX_GAP_WARNINGS} more)" if len(gaps) > _MAX_GAP_WARNINGS else ""
        warnings.append(
            f"{len(gaps)} gap(s), {missing} missing candle(s), not filled: {shown}{more}"
        )
    return timeframe_ms


class _Walk:
    """The state shared by both walks over the candles."""

    def __init__(
        self,
        candles: Candles,
        symbol: str,
        timeframe_ms: int,
        exchange: SimulatedExchange,
        pipeline: TradingPipeline,
        progress: Progress | None,
        *,
        funded: bool = False,
    ) -> None:
        self.candles = candles
        self.symbol = symbol
        self.close_offset_ns = timeframe_ms * 1_000_000
        self.exchange = exchange
        self.pipeline = pipeline
        self.progress = progress
        # candle index of each fill in ``pipeline.fills`` (an int64 array: 8 bytes a fill)
        self.fill_bars = array("q")
        # with a funding series: the payments settled, and the candle each settled on
        self.funded = funded
        self.funding: list[FundingPayment] = []
        self.funding_bars = array("q")

    def _fund(self, bar: int) -> None:
        # OR3: the portfolio books each payment as it settles, so sizing sees the cash it left
        payments = self.exchange.drain_funding()
        if payments:
            apply = self.pipeline.order_manager.portfolio.apply_funding
            for payment in payments:
                apply(payment)
            self.funding.extend(payments)
            self.funding_bars.extend([bar] * len(payments))

    def _market(self, bar: int, updates: list[OrderUpdate]) -> None:
        fills = self.pipeline.fills
        before = len(fills)
        self.pipeline.on_updates(updates)
        added = len(fills) - before
        if added:
            self.fill_bars.extend([bar] * added)

    # One frame for the whole hot loop on purpose: a helper call per visited bar costs more
    # than the branches it would hide.
    def vectorised(self, frame: SignalFrame) -> None:  # noqa: C901
        """Visit only the actionable bars and the bars the exchange needs."""
        candles = self.candles
        n = len(candles)
        actionable: list[int] = np.flatnonzero(frame.action).tolist()
        ts, h, lo = candles.ts_ms, candles.high, candles.low
        # ndarray.item returns a Python scalar directly: half the cost of float(array[i])
        ts_at, open_at, high_at = ts.item, candles.open.item, h.item
        low_at, close_at, volume_at = lo.item, candles.close.item, candles.volume.item
        exchange, symbol = self.exchange, self.symbol
        on_candle, next_event = exchange.on_candle, exchange.next_event_index
        has_open_orders = exchange.has_open_orders
        pipeline = self.pipeline
        on_decision, decision_at = pipeline.on_decision, frame.decision_at
        on_updates, fills, fill_bars = pipeline.on_updates, pipeline.fills, self.fill_bars
        close_offset_ns, progress = self.close_offset_ns, self.progress
        funded, position_of, fund = self.funded, exchange.position, self._fund
        report_at = _PROGRESS_EVERY
        count = len(actionable)
        position = 0
        bar = -1
        # Most orders are market orders that fill on the next candle: visit it first, and ask
        # the exchange where its open orders can act only when that visit changed nothing.
        must_search = False
        while True:
            upcoming = actionable[position] if position < count else n
            has_orders = feed = has_open_orders(symbol)
            if has_orders:
                if must_search:
                    event = next_event(symbol, h, lo, bar + 1, ts_ms=ts)
                    if event is not None and event < upcoming:
                        upcoming = event
                elif bar + 1 < upcoming:
                    upcoming = bar + 1
            elif funded and position_of(symbol):
                # a held position pays funding: the exchange names the candle before each
                # funding time (its close is the mark) and the candle at it
                feed = True
                event = next_event(symbol, h, lo, bar + 1, ts_ms=ts)
                if event is not None and event < upcoming:
                    upcoming = event
            if upcoming >= n:
                break
            bar = upcoming
            if feed:
                updates = on_candle(
                    symbol, ts_at(bar), open_at(bar), high_at(bar), low_at(bar), close_at(bar),
                    volume_at(bar),
                )  # fmt: skip
                must_search = not updates
                if funded:
                    fund(bar)
                if updates:
                    # _market, written out: one call less per fill
                    before = len(fills)
                    on_updates(updates)
                    added = len(fills) - before
                    if added == 1:
                        fill_bars.append(bar)
                    elif added:
                        fill_bars.extend([bar] * added)
            if position < count and actionable[position] == bar:
                position += 1
                on_decision(
                    decision_at(bar, candles, symbol),
                    close_at(bar),
                    ts_at(bar) * 1_000_000 + close_offset_ns,
                )
                must_search = False
            if progress is not None and bar >= report_at:
                progress(bar, n)
                report_at = bar + _PROGRESS_EVERY

    def streaming(self, strategy: Strategy) -> None:
        """Walk every bar through ``strategy.on_candle`` (strategies without ``signals()``)."""
        candles = self.candles
        n = len(candles)
        exchange, symbol, market = self.exchange, self.symbol, self._market
        on_candle, has_open_orders = exchange.on_candle, exchange.has_open_orders
        funded, position_of, fund = self.funded, exchange.position, self._fund
        on_decision = self.pipeline.on_decision
        decide = strategy.on_candle
        close_offset_ns, progress = self.close_offset_ns, self.progress
        hold = Action.HOLD
        rows = zip(
            candles.ts_ms.tolist(),
            candles.open.tolist(),
            candles.high.tolist(),
            candles.low.tolist(),
            candles.close.tolist(),
            candles.volume.tolist(),
            strict=True,
        )
        for bar, (ts, o, h, lo, c, v) in enumerate(rows):
            if has_open_orders(symbol) or (funded and position_of(symbol)):
                updates = on_candle(symbol, ts, o, h, lo, c, v)
                if funded:
                    fund(bar)
                if updates:
                    market(bar, updates)
            decision: Decision = decide(Candle(ts, o, h, lo, c, v), symbol)
            if decision.action is not hold:
                on_decision(decision, c, ts * 1_000_000 + close_offset_ns)
            if progress is not None and not bar & (_PROGRESS_EVERY - 1):
                progress(bar, n)


def run_backtest(
    candles: Candles,
    strategy: Strategy,
    config: BacktestConfig | None = None,
    *,
    progress: Progress | None = None,
) -> BacktestResult:
    """Backtest ``strategy`` on ``candles``; deterministic for ``config.seed``.

    A decision on a candle's close fills no earlier than the next candle's open. Gaps are
    reported in ``warnings`` and never filled. Raises ``ConfigError`` / ``DataError`` naming
    the bad input.
    """
    started = time.perf_counter()
    config = config if config is not None else BacktestConfig()
    if len(candles) == 0:
        raise DataError(f"no candles to backtest in {candles.source or 'the input'}")
    warnings: list[str] = []
    instrument = _instrument(candles, config, warnings)
    symbol = instrument.symbol
    timeframe_ms = _timeframe(candles, warnings)
    funding = None
    if config.funding is not None:
        check_funding_target(instrument, config.funding)
        funding = {symbol: config.funding}
        funding_coverage(candles.ts_ms, config.funding, warnings)
    sizer = config.sizer()
    exchange = SimulatedExchange(
        {symbol: instrument},
        FillModel(
            slippage_bps=config.slippage_bps, seed=config.seed, fee_rate_override=config.fee_rate
        ),
        retain_history=False,  # finished orders leave memory: the result keeps only the fills
        funding=funding,
    )
    portfolio = Portfolio({instrument.quote: config.cash}, PositionMode.ONE_WAY)
    manager = OrderManager(config.bot_id, {symbol: instrument}, portfolio, retain_history=False)
    # BT1: the risk engine of paper and live trading, sizing included; the breakers that watch
    # a live feed (stale data, websocket, errors) have nothing to watch here and never trip
    risk = RiskEngine(
        config.risk_limits(),
        bot_id=config.bot_id,
        sizer=sizer,
        # real filters can refuse an approved entry before it becomes an order: its id returns
        reservations=(InMemoryCapitalReservations()),
    )
    limits = risk.settings
    # round trips feed only the loss cooldown here (the backtest's sizers keep no history):
    # with the cooldown off, nothing reads them and the fills go unwatched
    on_fill = None if limits.cooldown_losses is None else LegRoundTrips(risk, portfolio)
    pipeline = TradingPipeline(manager, sizer, exchange, on_fill=on_fill)
    # the manager keeps only unfinished orders (retain_history=False): the gate frees the
    # reservation of an entry whose order has left them before it judges the next one
    pipeline.entry_gate = RiskEntryGate(risk, manager, live_orders=manager.orders)
    walk = _Walk(
        candles, symbol, timeframe_ms, exchange, pipeline, progress, funded=funding is not None
    )
    # The run allocates tens of thousands of long-lived, acyclic objects (orders, fills,
    # decisions): the cyclic collector would rescan them again and again (~25 % of the loop).
    collecting = gc.isenabled()
    gc.disable()
    try:
        frame = strategy.signals(candles)
        if frame is None:
            walk.streaming(strategy)
        else:
            if len(frame.action) != len(candles):
                raise ConfigError(
                    f"strategy {strategy.name} returned {len(frame.action)} signals "
                    f"for {len(candles)} candles"
                )
            walk.vectorised(frame)
            # the decisions keep what their thoughts need; the frame's candle-length strength
            # array is done with, and the result building should not carry it (8 MB a million)
            del frame
        return _result(candles, strategy, config, instrument, timeframe_ms, walk, warnings, started)
    finally:
        if collecting:
            gc.enable()


def _result(
    candles: Candles,
    strategy: Strategy,
    config: BacktestConfig,
    instrument: Instrument,
    timeframe_ms: int,
    walk: _Walk,
    warnings: list[str],
    started: float,
) -> BacktestResult:
    symbol = instrument.symbol
    close = candles.close
    last_close = Decimal(repr(float(close[-1])))
    pipeline = walk.pipeline
    manager = pipeline.order_manager
    portfolio = manager.portfolio
    initial = float(config.cash)
    fills = pipeline.fills
    equity, exposure_bars = equity_curve(fills, walk.fill_bars, instrument, config.cash, close)
    if walk.funding:
        # each payment moves the cash from the close of the candle it settled on
        flows = np.zeros(len(close), dtype=np.float64)
        amounts = np.array([float(payment.amount) for payment in walk.funding])
        np.add.at(flows, np.asarray(walk.funding_bars, dtype=np.int64), amounts)
        equity += np.cumsum(flows)
    # counted in one pass; the RoundTrip objects are built only if the result's reader asks.
    # Funding counts in the round trip open when it settled: PnL net of fees and funding.
    round_trips = RoundTrips(
        fills, {symbol: last_close}, {symbol: instrument.contract_size}, walk.funding
    )
    fees_paid = portfolio.fees_paid
    metrics = compute_metrics(
        equity=equity,
        ts_ms=candles.ts_ms,
        bar_interval_ms=timeframe_ms,
        initial_equity=initial,
        round_trip_pnls=round_trips.closed_pnls,
        exposure_bars=exposure_bars,
        fees_paid=float(fees_paid),
    )
    decisions = pipeline.decisions
    rejected = [d for d in manager.thoughts if d.metadata.get("outcome") == "rejected"]
    if rejected:
        warnings.append(
            f"{len(rejected)} decision(s) rejected before reaching the exchange; first at ts_ms "
            f"{rejected[0].ts_ms}: {rejected[0].metadata.get('reason')}"
        )
    if manager.thoughts:
        # attrgetter, not a lambda: a C key function over tens of thousands of decisions
        decisions = sorted(decisions + manager.thoughts, key=_BY_TS_MS)
    entry_fills = manager.fill_counts.get("entry", 0)
    return BacktestResult(
        strategy=strategy.name,
        params=dict(strategy.params),
        symbol=symbol,
        timeframe_ms=timeframe_ms,
        candles=len(candles),
        fills=fills,
        round_trips=round_trips,
        decisions=decisions,
        equity=equity,
        ts_ms=candles.ts_ms,
        close=close,
        initial_cash=config.cash,
        final_equity=portfolio.equity({symbol: last_close}),
        fees_paid=fees_paid,
        metrics=metrics,
        warnings=warnings,
        engine_seconds=time.perf_counter() - started,
        entry_fills=entry_fills,
        funding_paid=portfolio.funding_paid,
        funding_payments=len(walk.funding),
    )
