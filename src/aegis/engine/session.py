"""One ``aegis run``: build venue, pipeline and runtime from ``Settings``, run, shut down (OP2).

The venue, pipeline and runtime are built from settings in ``aegis.engine.wiring``; this module
runs them (emulator, clocks, supervised tasks, recovery, shutdown).

``RunSession.run`` starts the in-process emulator when asked, runs the preflight, builds the one
pipeline, starts the supervised tasks (feed, user stream, fill watchdog, health server, step
driver, live view, funding poller for perpetuals: ``aegis.engine.funding_setup``; paper runs
settle funding in a ``FundedPaperVenue``),
waits for a stop (SIGINT / SIGTERM, end of a replay, a failed critical task), then stops
deciding, brings every in-flight order to a known state within ``shutdown_timeout_s`` and closes
everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import structlog

from aegis.config import Settings
from aegis.data.feeds import VirtualClock
from aegis.engine.assembly import DurableParts, open_store
from aegis.engine.clock import HistoryClock, wall_clock_ms
from aegis.engine.controls import write_pid
from aegis.engine.emulator import EmulatorHandle, start_emulator
from aegis.engine.funding import FundingBook
from aegis.engine.funding_setup import FundingParts, build_funding, start_funding
from aegis.engine.paper import PaperVenue
from aegis.engine.preflight import PreflightReport, preflight
from aegis.engine.recovery import recover
from aegis.engine.runtime import TradingRuntime
from aegis.engine.services import DurableServices
from aegis.engine.stepping import HttpStepper, InProcessStepper, StepDriver, Stepper
from aegis.engine.supervisor import Supervisor
from aegis.engine.wiring import build_pipeline, build_runtime, build_venue, parse_timeframe_ms

# quote_of, make_sizer and fee_rate are re-exported: importable from here as before.
from aegis.engine.wiring import fee_rate as fee_rate
from aegis.engine.wiring import make_sizer as make_sizer
from aegis.engine.wiring import quote_of as quote_of
from aegis.model.order import Order
from aegis.store import Store
from aegis.venues.base import Venue

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class SessionInfo:
    """What the session prints once running: URLs, preflight, mode."""

    mode: str
    venue: str
    symbols: tuple[str, ...]
    health_url: str | None = None
    emulator_url: str | None = None
    preflight: PreflightReport | None = None


@dataclass(slots=True)
class SessionResult:
    """A finished run: the runtime (book, record), why it stopped, orders left unknown."""

    runtime: TradingRuntime
    info: SessionInfo
    stop_reason: str | None
    unsettled: list[Order] = field(default_factory=list)
    task_failures: dict[str, int] = field(default_factory=dict)
    #: the run's booked funding (None: no perpetual traded, or no funding source)
    funding: FundingBook | None = None


class RunSession:
    """Run a bot as ``settings`` say; see the module docstring.

    ``on_started`` is called once the runtime trades (the CLI prints URLs / starts its view);
    ``view`` is an optional coroutine factory run as the supervised ``live-view`` task.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        on_started: Callable[[SessionInfo, TradingRuntime], None] | None = None,
        view: Callable[[SessionInfo, TradingRuntime], Any] | None = None,
        install_signal_handlers: bool = True,
    ) -> None:
        self.settings = settings
        self.on_started = on_started
        self.view = view
        self.install_signal_handlers = install_signal_handlers
        self.supervisor = Supervisor()
        self.emulator: EmulatorHandle | None = None
        self.runtime: TradingRuntime | None = None
        self.health_url: str | None = None
        self.step_driver: StepDriver | None = None
        self.store: Store | None = None
        self.durable: DurableParts | None = None
        self.services: DurableServices | None = None
        self.funding: FundingParts | None = None

    @property
    def is_step_driven(self) -> bool:
        """Return True for ``--speed max`` against an emulator."""
        settings = self.settings
        return settings.market.speed == "max" and settings.exchange.name == "emulator"

    async def run(self) -> SessionResult:
        """Run until stopped; raise ``ConfigError`` / ``PreflightFailed`` before trading."""
        settings = self.settings
        exchange = settings.exchange
        base_url = exchange.url
        if exchange.name == "emulator" and base_url is None:
            self.emulator = await start_emulator(settings)
            base_url = self.emulator.base_url
            exchange = self.emulator.exchange_settings
        try:
            return await self._run(exchange, base_url)
        finally:
            if self.emulator is not None:
                await self.emulator.stop()

    def _venue(self, exchange_settings: Any, base_url: str | None) -> Venue:
        return build_venue(self.settings, exchange_settings, base_url)

    async def _clocks(
        self, base_url: str | None
    ) -> tuple[Callable[[], int], Any, VirtualClock | None, Stepper | None]:
        settings = self.settings
        timeframe_ms = parse_timeframe_ms(settings.market.timeframe)
        if settings.exchange.name != "emulator":
            return wall_clock_ms, asyncio.sleep, None, None
        stepper: Stepper
        if self.emulator is not None:
            stepper = InProcessStepper(self.emulator.server, timeframe_ms)
        else:
            stepper = HttpStepper(base_url or "", timeframe_ms)
        history_now = await stepper.now_ms()
        if self.is_step_driven:
            virtual = VirtualClock(history_now)
            return virtual.now_ms, virtual.sleep, virtual, stepper
        speed = float(settings.market.speed)
        if isinstance(stepper, InProcessStepper):
            self.supervisor.start("emulator-pacer", stepper.pace(speed), critical=False)
            return stepper.history_ms, asyncio.sleep, None, None
        if isinstance(stepper, HttpStepper):
            await stepper.close()  # only read once here: the external emulator paces itself
        # /_admin/clock is the open time of the next candle to close; the replay's continuous
        # time is up to one candle later. A clock that lags holds a kline pushed as closed in the
        # feed (CandleSeries.is_closed) until it catches up: up to a candle of added latency.
        # Anchored at the upper bound it leads by less than a candle, which is harmless: the
        # emulator never publishes a candle before its close, as a live exchange's wall clock
        # is past the close when the venue sends it.
        return HistoryClock(history_now + timeframe_ms, speed).now_ms, asyncio.sleep, None, None

    async def _run(self, exchange_settings: Any, base_url: str | None) -> SessionResult:
        settings = self.settings
        symbols = tuple(settings.market.symbols)
        venue = self._venue(exchange_settings, base_url)
        info = SessionInfo(settings.mode, venue.name, symbols, emulator_url=base_url)
        try:
            info.preflight = await preflight(venue, symbols, wall_clock=wall_clock_ms)
            # PE1: the store opens and migrates before anything trades
            self.store = await asyncio.to_thread(open_store, settings)
            clock, sleep, virtual, stepper = await self._clocks(base_url)
            runtime = self._build_runtime(venue, info.preflight, clock, sleep)
            self.runtime = runtime
            return await self._trade(runtime, info, virtual, stepper)
        finally:
            await venue.close()
            if self.store is not None:
                self.store.close()

    def _build_runtime(
        self, venue: Venue, report: PreflightReport, clock: Callable[[], int], sleep: Any
    ) -> TradingRuntime:
        pipeline, durable = build_pipeline(self.settings, venue, report, self.store)
        self.durable = durable
        runtime = build_runtime(
            self.settings, venue, pipeline, durable, clock, sleep, step_driven=self.is_step_driven
        )
        if self.store is not None:
            self.funding = build_funding(runtime, venue, self.store, durable.durability)
        return runtime

    async def _trade(
        self,
        runtime: TradingRuntime,
        info: SessionInfo,
        virtual: VirtualClock | None,
        stepper: Stepper | None,
    ) -> SessionResult:
        supervisor = self.supervisor
        self._install_signals()
        pid_path = None
        stack = contextlib.ExitStack()
        try:
            await self._recover(runtime)
            pid_path = write_pid(self.settings.data_dir, self.settings.bot_id)
            # subscribed before the REST warm-up: a candle closing meanwhile comes in on the
            # socket, held until the history is in (CandleFeed.hold_streamed)
            runtime.feed.hold_streamed()
            supervisor.start("candle-feed", runtime.feed.run())
            try:
                await runtime.warm_up()
            finally:
                runtime.feed.release_streamed()
            stack.enter_context(frozen_startup_heap())
            if self.services is not None:
                self.services.start(supervisor)
            supervisor.start("user-stream", runtime.user_stream.run())
            keep_warm = getattr(runtime.venue, "keep_warm", None)  # a ccxt venue (live)
            keep_warm_s = self.settings.runtime.rest_keep_warm_s
            if keep_warm is not None and keep_warm_s > 0:
                supervisor.start("rest-keep-warm", keep_warm(keep_warm_s), critical=False)
            if runtime.fill_watchdog is not None:  # live, fills from the user stream
                supervisor.start("fill-watchdog", runtime.fill_watchdog.run(), critical=False)
            await self._start_health(runtime, info)
            if virtual is not None and stepper is not None:
                driver = StepDriver(
                    runtime, stepper, virtual, step_wait_s=self.settings.runtime.step_wait_s
                )
                self.step_driver = driver
                supervisor.start("step-driver", self._drive(driver))
            if self.on_started is not None:
                self.on_started(info, runtime)
            if self.view is not None:
                supervisor.start("live-view", self.view(info, runtime), critical=False)
            await supervisor.stop_requested.wait()
            unsettled = await self._shutdown(runtime)
            if self.services is not None:
                await self.services.stop()  # writes the backlog and the shutdown snapshot
        finally:
            stack.close()
            self._remove_signals()
            await supervisor.cancel_all()
            if pid_path is not None:
                pid_path.unlink(missing_ok=True)
            close = getattr(stepper, "close", None)
            if close is not None:
                await close()
        return SessionResult(
            runtime, info, supervisor.stop_reason, unsettled, dict(supervisor.failures),
            funding=None if self.funding is None else self.funding.book,
        )  # fmt: skip

    async def _recover(self, runtime: TradingRuntime) -> None:
        """PE3: snapshot, pending orders, start reconciliation, rehydration; then services."""
        durable, store = self.durable, self.store
        if durable is None or store is None:
            return
        funding = self.funding
        services = DurableServices(
            runtime, durable.durability, store, self.settings.database,
            reconciler=durable.reconciler,
            funding=None if funding is None else funding.poller,
        )  # fmt: skip
        if durable.reconciler is not None:
            durable.reconciler.on_alert = services.on_reconciliation_report
        self.services = services
        portfolio = runtime.pipeline.order_manager.portfolio
        # live: the venue's balances already hold every realised PnL the replay adds again
        cash = None if isinstance(runtime.venue, PaperVenue) else dict(portfolio.cash)
        await recover(runtime, durable.durability, store, reconciler=durable.reconciler,
                      cash=cash)  # fmt: skip
        if funding is not None:
            # OR3, PE4: booked payments back, missed ones booked, before the first decision
            await start_funding(funding, runtime, store, cash=cash)
        if isinstance(runtime.venue, PaperVenue):
            # the simulator holds what the store restored
            runtime.venue.resume(portfolio, runtime.pipeline.order_manager.open_orders)
        await services.poll_controls()  # requests made while no runtime ran (kill latches)

    async def _drive(self, driver: StepDriver) -> None:
        await driver.run()
        self.supervisor.request_stop("end of data")

    async def _start_health(self, runtime: TradingRuntime, info: SessionInfo) -> None:
        from aegis.engine.http import HealthServer

        server = HealthServer(runtime, self.supervisor, self.settings.server)
        self.supervisor.start("health-server", server.serve(), critical=False)
        info.health_url = await server.wait_started()

    async def _shutdown(self, runtime: TradingRuntime) -> list[Order]:
        """OP2: stop deciding, settle every open order within the bound, report the rest."""
        runtime.is_deciding = False
        await self.supervisor.cancel("step-driver")
        # the settle below asks the venue about every open order itself
        await self.supervisor.cancel("fill-watchdog")
        bound = runtime.options.shutdown_timeout_s

        async def settle() -> list[Order]:
            await runtime.quiesce()  # an order on the wire gets its answer before we settle
            return await runtime.order_sync.settle()

        try:
            unsettled = await asyncio.wait_for(settle(), bound)
        except TimeoutError:
            unsettled = runtime.pipeline.order_manager.open_orders
            log.error("shutdown_orders_unsettled", count=len(unsettled), bound_s=bound)
        log.info("shutdown_complete", reason=self.supervisor.stop_reason,
                 open_orders=len(unsettled), fills=len(runtime.pipeline.fills))  # fmt: skip
        return unsettled

    def _install_signals(self) -> None:
        if not self.install_signal_handlers:
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.supervisor.request_stop, f"signal {sig.name}")

    def _remove_signals(self) -> None:
        if not self.install_signal_handlers:
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)


@contextlib.contextmanager
def frozen_startup_heap() -> Iterator[None]:
    """Keep the objects built at start-up out of the garbage collections of the run.

    Modules, markets, strategies and history live as long as the run; otherwise every full
    collection walks them all, which stalled the event loop (decisions included) for ~0.2 s
    on the project machine (issue 3 section 7). They are handed back to the collector after.
    """
    gc.collect()  # what start-up left behind is freed, not frozen
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def balances_text(balances: Mapping[str, Decimal]) -> str:
    """Return balances as ``ASSET amount`` pairs for display."""
    return ", ".join(f"{asset} {amount}" for asset, amount in sorted(balances.items()))
