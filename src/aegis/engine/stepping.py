"""Shared virtual clock with a step-driven emulator (``--speed max``): deterministic replays.

The runtime steps the emulator one candle at a time and only after it finished reacting to the
previous candle; the feeds' time (a ``VirtualClock``) follows the emulator's history time. A
candle the websocket did not deliver within ``step_wait_s`` is read from REST and pushed through
the same feed (continuity, outliers, staleness), so the outcome never depends on socket timing.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import structlog

from aegis.data.feeds import VirtualClock
from aegis.engine.runtime import TradingRuntime
from aegis.model.errors import VenueError

log = structlog.get_logger(__name__)


class Stepper(Protocol):
    """Drives a step-driven replay: one candle per ``step``; ``now_ms`` is its history time."""

    async def now_ms(self) -> int:
        """Return the open time of the next candle to close."""
        ...

    async def step(self) -> bool:
        """Close the next candle of every feed; return True when the data has ended."""
        ...


class InProcessStepper:
    """Step an ``EmulatorServer`` running in this process."""

    def __init__(self, server: Any, timeframe_ms: int) -> None:
        # Any: the emulator server class is imported lazily (aiohttp) by whoever builds it.
        self.server = server
        self.timeframe_ms = timeframe_ms

    async def now_ms(self) -> int:
        """Return the history time of the feeds with the runtime's timeframe."""
        return self.history_ms()

    def history_ms(self) -> int:
        """Return the history time synchronously (the clock of a paced in-process replay)."""
        feeds = [f for f in self.server.exchange.data.candles if f.interval_ms == self.timeframe_ms]
        return max(int(f.now_ms()) for f in feeds or self.server.exchange.data.candles)

    async def pace(self, speed: float) -> None:
        """Close one candle every ``timeframe / speed`` wall seconds until the data ends."""
        interval_s = self.timeframe_ms / 1000 / speed
        while not self.server.exchange.is_exhausted:
            await asyncio.sleep(interval_s)
            self.server.step(1)

    async def step(self) -> bool:
        """Close the next candle in process."""
        self.server.step(1)
        return bool(self.server.exchange.is_exhausted)


class HttpStepper:
    """Step an emulator that runs elsewhere through ``POST /_admin/step``."""

    def __init__(self, base_url: str, timeframe_ms: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeframe_ms = timeframe_ms
        self._session: Any = None

    async def _client(self) -> Any:
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession()
        return self._session

    async def now_ms(self) -> int:
        """Return the history time read from ``GET /_admin/clock``."""
        session = await self._client()
        async with session.get(f"{self.base_url}/_admin/clock") as response:
            if response.status != 200:
                raise VenueError(f"GET {self.base_url}/_admin/clock answered {response.status}")
            body = await response.json()
        feeds = body.get("feeds") or []
        if not feeds:
            raise VenueError(f"emulator at {self.base_url} replays no candle feed")
        interval = [f for f in feeds if _interval_ms(str(f.get("interval"))) == self.timeframe_ms]
        return max(int(f["now_ms"]) for f in interval or feeds)

    async def step(self) -> bool:
        """Close the next candle through the admin endpoint."""
        session = await self._client()
        async with session.post(f"{self.base_url}/_admin/step", params={"candles": "1"}) as resp:
            if resp.status != 200:
                raise VenueError(f"POST {self.base_url}/_admin/step answered {resp.status}")
            body = await resp.json()
        return bool(body.get("exhausted"))

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None


def _interval_ms(text: str) -> int | None:
    from aegis.data import parse_timeframe

    try:
        return parse_timeframe(text)
    except (ValueError, VenueError):
        return None


class StepDriver:
    """Step the replay after each processed candle until the data ends; see module docstring."""

    def __init__(
        self,
        runtime: TradingRuntime,
        stepper: Stepper,
        clock: VirtualClock,
        *,
        step_wait_s: float = 1.0,
        connect_timeout_s: float = 15.0,
    ) -> None:
        self.runtime = runtime
        self.stepper = stepper
        self.clock = clock
        self.step_wait_s = step_wait_s
        self.connect_timeout_s = connect_timeout_s
        self.steps = 0
        self.rest_fallbacks = 0
        self.finished = asyncio.Event()
        # Cleared = hold the replay before the next step (tests, operators inspecting a state).
        self.gate = asyncio.Event()
        self.gate.set()

    async def run(self) -> None:
        """Step until the data ends, then set ``finished``."""
        await self._wait_for_user_stream()
        timeframe_ms = self.runtime.timeframe_ms
        while self.runtime.is_deciding:
            await self.gate.wait()
            # The candle about to close ends one timeframe after the current history time: move
            # the clock first, so the feed sees it closed whenever its websocket frame lands.
            await self.clock.advance(timeframe_ms / 1000)
            exhausted = await self.stepper.step()
            self.steps += 1
            now = await self.stepper.now_ms()
            if now > self.clock.now_ms():
                await self.clock.advance((now - self.clock.now_ms()) / 1000)
            for symbol in self.runtime.options.symbols:
                await self._settle(symbol, now - timeframe_ms)
            if exhausted:
                log.info("replay_finished", steps=self.steps, rest_fallbacks=self.rest_fallbacks)
                break
        self.finished.set()

    async def _wait_for_user_stream(self) -> None:
        stream = self.runtime.user_stream
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_timeout_s
        while not stream.is_connected:
            if loop.time() > deadline:
                raise VenueError(
                    f"user stream not connected within {self.connect_timeout_s} s; "
                    "cannot start the replay"
                )
            await asyncio.sleep(0.01)

    async def _settle(self, symbol: str, expected_ms: int) -> None:
        runtime = self.runtime
        if await runtime.wait_processed(symbol, expected_ms, self.step_wait_s):
            return
        # Not delivered by the socket in time: REST has every closed candle (or none, in a gap).
        self.rest_fallbacks += 1
        done = runtime.processed_ms.get(symbol)
        since = expected_ms if done is None else done + runtime.timeframe_ms
        candles = await runtime.venue.fetch_candles(symbol, runtime.options.timeframe, since)
        await runtime.feed.ingest(symbol, candles)
