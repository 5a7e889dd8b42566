"""Keeps the private user-data stream alive and resynchronises after every reconnect (EX3).

Tasks: ``user-stream`` (watch, detect silence and errors, restart, resync) and
``user-stream-keepalive`` (extend the listenKey every ``keepalive_interval_s``). Anyone else who
finds the stream untrustworthy (the runtime's fill watchdog) calls ``request_restart``: the
restart still runs in the stream loop, so two restarts never overlap.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import structlog

from aegis.data.feeds.protocols import NowMs, Sleep, UserStreamSource
from aegis.data.feeds.series import call_back
from aegis.data.feeds.timing import Backoff, with_timeout
from aegis.model.errors import VenueError
from aegis.model.events import Fill, OrderUpdate

log = structlog.get_logger(__name__)

OrderT = TypeVar("OrderT")

_STREAM_ERRORS = (VenueError, OSError, TimeoutError)

# Binance USD-M weighs open orders 1 per symbol and 40 for all symbols at once: below this many
# symbols asking one by one is cheaper (and ccxt's limiter does not stall the resync for seconds).
ALL_SYMBOLS_OPEN_ORDERS_FROM = 40


@dataclass(frozen=True, slots=True)
class Resync(Generic[OrderT]):
    """What REST says after a (re)connect: apply it so nothing missed while down is lost."""

    reason: str  # "start", "silence", "error", "keepalive_failed", or a request_restart reason
    ts_ms: int
    open_orders: tuple[OrderT, ...]
    fills: tuple[Fill, ...]
    fills_since_ms: int


class UserStreamSupervisor(Generic[OrderT]):
    """Supervise ``source``'s user-data stream; see the module docstring.

    Args:
        source: the private stream and REST calls (``CcxtVenue``); its optional
            ``keep_alive()`` and ``restart_user_stream()`` are used when present.
        symbols: symbols whose recent fills are fetched on resync.
        clock / sleep: injectable time.
        on_update: called with each ``OrderUpdate`` from the stream.
        on_resync: called with a ``Resync`` after the first connect and after every restart,
            before any update that arrived on the new stream is handed to ``on_update``.
        keepalive_interval_s: listenKey keep-alive cadence (Binance: 60 min validity).
        silence_timeout_s: no message for this long means the stream is dead: restart.
        fills_lookback_s: how far before the last message fills are fetched on resync.
    """

    def __init__(
        self,
        source: UserStreamSource[OrderT],
        symbols: Sequence[str],
        *,
        clock: NowMs,
        on_update: Callable[[OrderUpdate], Awaitable[None] | None],
        on_resync: Callable[[Resync[OrderT]], Awaitable[None] | None],
        sleep: Sleep = asyncio.sleep,
        keepalive_interval_s: float = 1800.0,
        silence_timeout_s: float = 600.0,
        fills_lookback_s: float = 60.0,
        backoff: Backoff | None = None,
    ) -> None:
        for name, value in (
            ("keepalive_interval_s", keepalive_interval_s),
            ("silence_timeout_s", silence_timeout_s),
        ):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be positive, got {value!r}")
        if fills_lookback_s < 0:
            raise ValueError(f"fills_lookback_s must be >= 0, got {fills_lookback_s!r}")
        self._source = source
        self.symbols = tuple(symbols)
        self._now_ms = clock
        self._sleep = sleep
        self._on_update = on_update
        self._on_resync = on_resync
        self._keepalive_interval_s = keepalive_interval_s
        self._silence_timeout_s = silence_timeout_s
        self._lookback_ms = int(fills_lookback_s * 1000)
        self._backoff = backoff if backoff is not None else Backoff()
        self._restart_requested = asyncio.Event()
        self._restart_reason: str | None = None
        self.restart_requests = 0
        self.last_resync_reason: str | None = None
        self.reconnects = 0
        self.keepalives = 0
        self.resyncs = 0
        self.updates = 0
        self.messages = 0  # stream messages; each carries a batch of updates
        self.last_message_ms: int | None = None
        self.last_resync_ms: int | None = None
        self.is_connected = False

    async def run(self) -> None:
        """Run the stream and keep-alive tasks until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._stream_loop(), name="user-stream")
            group.create_task(self._keepalive_loop(), name="user-stream-keepalive")

    async def _stream_loop(self) -> None:
        reason = "start"
        attempt = 0
        while True:
            messages_before = self.messages
            try:
                await self._session(reason)
            except _STREAM_ERRORS as error:
                reason = self._classify(error)
                log.warning("user_stream_down", reason=reason, error=str(error), attempt=attempt)
            self.is_connected = False
            self.reconnects += 1
            if self.messages > messages_before:
                attempt = 0  # the stream worked: a new failure starts the back-off afresh
            await self._sleep(self._backoff.delay(attempt))
            attempt += 1
            try:
                await self._restart()
            except _STREAM_ERRORS as error:
                # The next session still runs (and fails fast), so the restart is retried.
                log.warning("user_stream_restart_failed", error=str(error), attempt=attempt)

    def request_restart(self, reason: str) -> None:
        """Ask the stream loop to restart the stream and resync through REST, with ``reason``.

        Only sets a flag the running session watches: the restart itself runs in the stream
        loop, one at a time. Requests made before the running session notices the first one
        join it (the first reason is kept).
        """
        if not reason:
            raise ValueError(f"restart reason must not be empty, got {reason!r}")
        self.restart_requests += 1
        if self._restart_requested.is_set():
            return
        self._restart_reason = reason
        self._restart_requested.set()
        log.info("user_stream_restart_requested", reason=reason)

    def _classify(self, error: BaseException) -> str:
        if self._restart_requested.is_set():
            return self._restart_reason or "keepalive_failed"
        return "silence" if isinstance(error, TimeoutError) else "error"

    async def _session(self, reason: str) -> None:
        """Subscribe, resync, then pass updates on until the stream breaks (raises)."""
        self._restart_requested.clear()
        self._restart_reason = None
        # Subscribe first, then take the REST snapshot: events during the resync wait on the
        # stream instead of being lost. A source that opens its socket apart from the watch
        # (``open_user_stream``: a listenKey POST and a handshake) has it open before; else one
        # loop turn lets the watch send its subscription.
        opener = getattr(self._source, "open_user_stream", None)
        if opener is not None:
            await opener()
        first = asyncio.create_task(
            self._source.watch_order_updates(), name="user-stream-subscribe"
        )
        await asyncio.sleep(0)
        try:
            await self._resync(reason)
        except BaseException:
            first.cancel()
            await asyncio.gather(first, return_exceptions=True)
            raise
        self.is_connected = True
        watch: Awaitable[list[OrderUpdate]] = first
        while True:
            updates = await self._watch_once(watch)
            self.last_message_ms = self._now_ms()
            self.messages += 1
            for update in updates:
                self.updates += 1
                await call_back(self._on_update, update)
            watch = self._source.watch_order_updates()

    async def _watch_once(self, watch: Awaitable[list[OrderUpdate]]) -> list[OrderUpdate]:
        restart = asyncio.create_task(self._restart_requested.wait(), name="user-stream-restart")
        timed = with_timeout(watch, self._silence_timeout_s, self._sleep, name="user-stream-watch")
        watch_task = asyncio.create_task(timed, name="user-stream-watch-timeout")
        try:
            done, _ = await asyncio.wait({watch_task, restart}, return_when=asyncio.FIRST_COMPLETED)
            if watch_task not in done:
                raise VenueError(f"user stream restart requested ({self._restart_reason})")
            return watch_task.result()
        finally:
            # Also when this supervisor is cancelled (shutdown): no watch may outlive it, or its
            # exception is never retrieved.
            for task in (restart, watch_task):
                task.cancel()
            await asyncio.gather(restart, watch_task, return_exceptions=True)

    async def _restart(self) -> None:
        restart = getattr(self._source, "restart_user_stream", None)
        if restart is not None:
            await restart()
        log.info("user_stream_restarted", reconnects=self.reconnects)

    async def _resync(self, reason: str) -> None:
        now = self._now_ms()
        anchor = self.last_resync_ms if self.last_message_ms is None else self.last_message_ms
        since = (anchor if anchor is not None else now) - self._lookback_ms
        open_orders: list[OrderT] = []
        if len(self.symbols) >= ALL_SYMBOLS_OPEN_ORDERS_FROM or not self.symbols:
            open_orders.extend(await self._source.fetch_open_orders(None))
        else:
            for symbol in self.symbols:
                open_orders.extend(await self._source.fetch_open_orders(symbol))
        fills: list[Fill] = []
        for symbol in self.symbols:
            fills.extend(await self._source.fetch_fills(symbol, since_ms=since))
        fills.sort(key=lambda fill: fill.ts_ns)
        self.resyncs += 1
        self.last_resync_ms = now
        self.last_resync_reason = reason
        log.info(
            "user_stream_resynced",
            reason=reason,
            open_orders=len(open_orders),
            fills=len(fills),
            fills_since_ms=since,
        )
        await call_back(
            self._on_resync, Resync(reason, now, tuple(open_orders), tuple(fills), since)
        )

    async def _keepalive_loop(self) -> None:
        while True:
            await self._sleep(self._keepalive_interval_s)
            keep_alive = getattr(self._source, "keep_alive", None)
            if keep_alive is None:
                continue
            try:
                await keep_alive()
            except _STREAM_ERRORS as error:
                # An expired listenKey cannot be extended: re-create the stream (EX3).
                log.warning("user_stream_keepalive_failed", error=str(error))
                self.request_restart("keepalive_failed")
                continue
            self.keepalives += 1
