"""Feeds over the real CcxtVenue against the Binance emulator with its faults (EX2-EX4, EX6).

The emulator replays real XRP/USDT perpetual 5m candles step by step; the feed's clock is the
emulator's history clock, its sleeps are real but short, and every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from aegis.data.feeds import (
    Backoff,
    CandleFeed,
    CandleSource,
    GapPolicy,
    RequestBudget,
    Resync,
    StaleReason,
    UserStreamSupervisor,
)
from aegis.model.candle import Candle
from aegis.venues.base import VenueOrder
from aegis.venues.ccxt import CcxtVenue, RetryPolicy
from aegis.venues.emulator import EmulatorServer

from .helpers import wait_until, wall_clock_ms

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

XRP = "XRP/USDT:USDT"
TF_MS = 300_000


@pytest.fixture
def server(xrp_emulator: EmulatorServer) -> EmulatorServer:
    return xrp_emulator


@pytest.fixture
async def venue(
    server: EmulatorServer,
    connect_venue: Callable[[EmulatorServer, RetryPolicy], Awaitable[CcxtVenue]],
) -> CcxtVenue:
    return await connect_venue(server, RetryPolicy(base_delay_s=0.01, seed=1))


def history_clock(server: EmulatorServer) -> Callable[[], int]:
    """The emulator's replay time: the open time of the next candle to close."""
    return lambda: server.exchange.now_ms("usdm", "XRPUSDT")


@contextlib.asynccontextmanager
async def running(work: Awaitable[None], name: str) -> AsyncIterator[None]:
    task = asyncio.ensure_future(work)
    if isinstance(task, asyncio.Task):
        task.set_name(name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Series:
    def __init__(self) -> None:
        self.times: list[int] = []

    def on_candle(self, symbol: str, candle: Candle) -> None:
        self.times.append(candle.ts_ms)

    def is_contiguous(self) -> bool:
        return all(b - a == TF_MS for a, b in itertools.pairwise(self.times))


class CountingSource:
    """The real venue, plus a count of finished REST candle requests for the test to wait on."""

    def __init__(self, venue: CcxtVenue) -> None:
        self.venue = venue
        self.completed_fetches = 0

    async def watch_candles(self, symbol: str, timeframe: str) -> list[Candle]:
        return await self.venue.watch_candles(symbol, timeframe)

    async def fetch_candles(
        self, symbol: str, timeframe: str, since_ms: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        try:
            return await self.venue.fetch_candles(symbol, timeframe, since_ms, limit)
        finally:
            self.completed_fetches += 1


def make_feed(
    venue: CandleSource, server: EmulatorServer, series: Series, **kwargs: Any
) -> CandleFeed:
    return CandleFeed(
        venue,
        [XRP],
        "5m",
        clock=history_clock(server),
        on_candle=series.on_candle,
        backoff=Backoff(initial_s=0.05, max_s=0.2, seed=1),
        # Rate limits are wall time; the feed's clock is the emulator's history time.
        request_budget=RequestBudget(50.0, now_ms=wall_clock_ms, sleep=asyncio.sleep),
        poll_interval_s=0.05,
        silence_timeout_s=30.0,
        stale_after_timeframes=1000.0,  # history time only moves when the test steps it
        **kwargs,
    )


async def step_and_wait(server: EmulatorServer, series: Series, candles: int) -> None:
    for _ in range(candles):
        server.step()
        expected = history_clock(server)() - TF_MS

        def delivered(expected: int = expected) -> bool:
            return bool(series.times) and series.times[-1] >= expected

        await wait_until(delivered)


async def test_dropped_socket_is_covered_by_polling_and_backfill(
    venue: CcxtVenue, server: EmulatorServer
) -> None:
    series = Series()
    feed = make_feed(venue, server, series)
    async with running(feed.run(), "feed-drop"):
        await wait_until(lambda: feed.is_socket_up(XRP) or bool(series.times))
        await step_and_wait(server, series, 2)
        polls_before = feed.counters.polls[XRP]
        server.set_fault("ws_drop", "0")
        await step_and_wait(server, series, 3)
        await step_and_wait(server, series, 2)
    assert feed.counters.reconnects[XRP] >= 1
    # REST polling or a back-fill (whichever came first) supplied what the socket missed.
    recovered = feed.counters.polls[XRP] - polls_before + feed.counters.backfilled_candles[XRP]
    assert recovered >= 1
    assert series.is_contiguous()
    assert series.times[-1] == history_clock(server)() - TF_MS
    assert not feed.is_stale(XRP)
    assert server.stats()["unhandled_count"] == 0


async def test_candles_missing_only_on_the_socket_are_backfilled(
    venue: CcxtVenue, server: EmulatorServer
) -> None:
    series = Series()
    feed = make_feed(venue, server, series)
    async with running(feed.run(), "feed-stream-gap"):
        await step_and_wait(server, series, 2)
        server.set_fault("stream_gap", "2")
        server.step(2)  # pushed nowhere on the socket; REST has them
        await step_and_wait(server, series, 1)
    assert series.is_contiguous()
    assert feed.counters.backfilled_candles[XRP] + feed.counters.polls[XRP] >= 1
    assert not feed.is_stale(XRP)


async def test_candles_missing_everywhere_make_the_symbol_stale(
    venue: CcxtVenue, server: EmulatorServer
) -> None:
    series = Series()
    policy = GapPolicy(backfill_attempts=2, retry_delay_s=0.01, resume_after_candles=3)
    source = CountingSource(venue)
    feed = make_feed(source, server, series, gap_policy=policy)
    async with running(feed.run(), "feed-gap"):
        await step_and_wait(server, series, 2)
        before = list(series.times)
        server.set_fault("gap", "2")
        server.step(3)  # two candles never exist, the third arrives after the hole
        await wait_until(lambda: feed.is_stale(XRP))
        health = feed.health(XRP)
        assert health.stale_reason is StaleReason.GAP
        assert series.times == before  # nothing after the hole reached the consumer
        # Three contiguous candles past the hole: the series restarts. One step at a time: two
        # klines pushed at once reach ccxt's cache, but watch_ohlcv wakes only for the first.
        gap_to = health.gap_to_ms
        assert gap_to is not None
        for held in (2, 3):
            # Wait until the feed has also finished its REST retry for the previous candle:
            # a kline pushed while nobody awaits watch_ohlcv sits in ccxt's cache unseen (the
            # emulator sends no open-candle updates that would flush it).
            done = source.completed_fetches
            server.step()

            def advanced(held: int = held, done: int = done) -> bool:
                caught_up = feed.held_count(XRP) >= held and source.completed_fetches > done
                return caught_up or not feed.is_stale(XRP)

            await wait_until(advanced)
        await wait_until(lambda: not feed.is_stale(XRP))
    assert series.times[len(before) :] == [gap_to + i * TF_MS for i in range(3)]
    assert feed.health(XRP).epoch == 1
    assert feed.counters.stale_events[XRP] == 1


async def test_user_stream_comes_back_after_listen_key_expiry(
    venue: CcxtVenue, server: EmulatorServer
) -> None:
    resyncs: list[Resync[VenueOrder]] = []
    supervisor: UserStreamSupervisor[VenueOrder] = UserStreamSupervisor(
        venue,
        [XRP],
        clock=history_clock(server),
        on_update=lambda update: None,
        on_resync=resyncs.append,
        silence_timeout_s=30.0,
        backoff=Backoff(initial_s=0.05, max_s=0.2, seed=1),
    )
    async with running(supervisor.run(), "user-stream-expiry"):
        await wait_until(lambda: supervisor.is_connected and len(resyncs) == 1)
        await wait_until(lambda: any(c.listen_key is not None for c in server.hub.connections))
        first_key = venue.user_stream.listen_key()
        server.set_fault("listen_key_expire", "0")
        await wait_until(lambda: supervisor.reconnects >= 1 and supervisor.is_connected)
        await wait_until(lambda: len(resyncs) >= 2)
        # The real venue re-created the stream on a new key, and the emulator serves it.
        new_key = venue.user_stream.listen_key()
        assert new_key is not None
        assert new_key != first_key
        await wait_until(
            lambda: any(
                c.listen_key is not None and c.listen_key.key == new_key
                for c in server.hub.connections
            )
        )
        await venue.keep_alive()  # the new key can be extended (PUT listenKey)
    assert venue.user_stream.restarts >= 1
    assert venue.user_stream.keepalives == 1
    assert resyncs[1].reason == "error"
    assert server.stats()["unhandled_count"] == 0
