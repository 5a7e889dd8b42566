"""CandleFeed over a replayed real series: reconnect, polling, back-fill, staleness (EX2/4/6)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from aegis.data.feeds import (
    Backoff,
    CandleFeed,
    FeedState,
    GapPolicy,
    ReplayCandleSource,
    StaleReason,
    SymbolHealth,
    VirtualClock,
)
from aegis.model.candle import Candle
from aegis.model.errors import RateLimited, StaleDataError

SYMBOL = "XRP/USDT:USDT"
TF = 300_000  # the bundled XRP file is 5m


@dataclass
class Consumer:
    """Records what a feed hands out, in order, across symbols."""

    candles: dict[str, list[Candle]] = field(default_factory=dict)
    health: list[SymbolHealth] = field(default_factory=list)
    events: list[tuple[str, str, int | None]] = field(default_factory=list)

    def on_candle(self, symbol: str, candle: Candle) -> None:
        self.candles.setdefault(symbol, []).append(candle)
        self.events.append(("candle", symbol, candle.ts_ms))

    def on_health(self, health: SymbolHealth) -> None:
        self.health.append(health)
        self.events.append((str(health.state), health.symbol, health.last_candle_ms))

    def times(self, symbol: str) -> list[int]:
        return [c.ts_ms for c in self.candles.get(symbol, [])]

    def states(self, symbol: str) -> list[FeedState]:
        return [h.state for h in self.health if h.symbol == symbol]


@pytest.fixture
def consumer() -> Consumer:
    return Consumer()


def is_contiguous(times: list[int], step_ms: int) -> bool:
    return all(b - a == step_ms for a, b in itertools.pairwise(times))


pytestmark = pytest.mark.timeout(30)


@contextlib.asynccontextmanager
async def running(feed: CandleFeed) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(feed.run(), name="candle-feed-under-test")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def make_feed(
    source: ReplayCandleSource,
    clock: VirtualClock,
    consumer: Consumer,
    symbols: list[str] | None = None,
    **kwargs: object,
) -> CandleFeed:
    return CandleFeed(
        source,
        symbols or [SYMBOL],
        "5m",
        clock=clock.now_ms,
        sleep=clock.sleep,
        on_candle=consumer.on_candle,
        on_health=consumer.on_health,
        **kwargs,  # type: ignore[arg-type]  # test helper forwards keyword options as-is
    )


def replay(candles: list[Candle], clock: VirtualClock) -> ReplayCandleSource:
    return ReplayCandleSource({SYMBOL: candles}, "5m", clock=clock.now_ms, sleep=clock.sleep)


def start_ms(candles: list[Candle]) -> int:
    return candles[2].ts_ms


async def test_candles_arrive_in_order_and_contiguous(
    clock: VirtualClock, consumer: Consumer, xrp_candles: list[Candle]
) -> None:
    source = replay(xrp_candles, clock)
    feed = make_feed(source, clock, consumer)
    assert feed.is_stale(SYMBOL)  # no data yet is not healthy
    async with running(feed):
        await clock.advance(20 * TF / 1000)
    times = consumer.times(SYMBOL)
    assert times[0] == start_ms(xrp_candles)
    assert len(times) == 21
    assert is_contiguous(times, TF)
    assert consumer.candles[SYMBOL][5] == xrp_candles[7]
    assert not feed.is_stale(SYMBOL)
    assert feed.health(SYMBOL).age_ms(clock.now_ms()) == 0


async def test_socket_drop_reconnects_with_backoff_and_jitter_bounds(
    clock: VirtualClock, consumer: Consumer, xrp_candles: list[Candle]
) -> None:
    source = replay(xrp_candles, clock)
    delays: list[float] = []

    async def recording_sleep(seconds: float) -> None:
        if seconds >= 0.5 and seconds < 60:  # the back-off calls only (poll and replay use 1 s)
            delays.append(seconds)
        await clock.sleep(seconds)

    backoff = Backoff(initial_s=2.0, max_s=16.0, jitter=0.25, seed=3)
    feed = CandleFeed(
        source,
        [SYMBOL],
        "5m",
        clock=clock.now_ms,
        sleep=recording_sleep,
        on_candle=consumer.on_candle,
        backoff=backoff,
        poll_interval_s=1.5,
    )
    source.drop(SYMBOL, times=5)
    async with running(feed):
        await clock.advance(2 * TF / 1000)
    assert feed.counters.reconnects[SYMBOL] == 5
    backoff_delays = [d for d in delays if d not in (1.0, 1.5)]
    assert len(backoff_delays) == 5
    for attempt, delay in enumerate(backoff_delays):
        ceiling = min(16.0, 2.0 * 2**attempt)
        assert ceiling * 0.75 <= delay <= ceiling
    assert feed.is_socket_up(SYMBOL)


async def test_rest_polling_takes_over_while_the_socket_is_down(
    clock: VirtualClock, consumer: Consumer, xrp_candles: list[Candle]
) -> None:
    source = replay(xrp_candles, clock)
    source.drop(SYMBOL, times=1_000_000)  # the socket never comes back
    feed = make_feed(source, clock, consumer, backoff=Backoff(initial_s=30, max_s=60))
    async with running(feed):
        await clock.advance(10 * TF / 1000)
    times = consumer.times(SYMBOL)
    assert feed.counters.polls[SYMBOL] >= 10
    assert len(times) >= 10
    assert is_contiguous(times, TF)
    assert times[-1] + TF == clock.now_ms()  # the latest closed candle is there
    assert not feed.is_socket_up(SYMBOL)
    assert not feed.is_stale(SYMBOL)


async def test_fifty_symbols_are_polled_round_robin_within_the_budget(
    clock: VirtualClock, consumer: Consumer, xrp_candles: list[Candle]
) -> None:
    symbols = [f"S{i:02d}/USDT" for i in range(50)]
    source = ReplayCandleSource(
        dict.fromkeys(symbols, xrp_candles), "5m", clock=clock.now_ms, sleep=clock.sleep
    )
    for symbol in symbols:
        source.drop(symbol, times=1_000_000)
    feed = make_feed(
        source,
        clock,
        consumer,
        symbols=symbols,
        requests_per_s=10.0,
        backoff=Backoff(initial_s=60, max_s=600),
    )
    async with running(feed):
        await clock.advance(3 * TF / 1000)
    stamps = [stamp for stamp, *_ in source.rest_calls]
    assert all(b - a >= 100 for a, b in itertools.pairwise(stamps))  # 10 per second
    first_round = [symbol for _, symbol, *_ in source.rest_calls[:50]]
    assert first_round == symbols  # each symbol once, in turn, before any is asked again
    assert stamps[49] - stamps[0] >= 4_900
    for symbol in symbols:
        times = consumer.times(symbol)
        assert len(times) >= 3
        assert is_contiguous(times, TF)


async def test_gap_after_reconnect_is_backfilled_before_any_later_candle(
    clock: VirtualClock, consumer: Consumer, xrp_candles: list[Candle]
) -> None:
    source = replay(xrp_candles, clock)
    # A long silence timeout keeps the socket "up", so REST polling does not fill the hole first.
    feed = make_feed(source, clock, consumer, silence_timeout_s=3600.0)
    # The socket misses two candles (pushed while it was being re-established); REST has them.
    missed = (xrp_candles[6].ts_ms, xrp_candles[7].ts_ms)
    source.hide_from_socket(SYMBOL, *missed)
    async with running(feed):
        await clock.advance(10 * TF / 1000)
    times = consumer.times(SYMBOL)
    assert is_contiguous(times, TF)
    assert set(missed) <= set(times)
    assert feed.counters.backfilled_candles[SYMBOL] == 2
    assert times.index(missed[1]) + 1 == times.index(xrp_candles[8].ts_ms)
    assert FeedState.STALE not in consumer.states(SYMBOL)


async def test_unfillable_gap_marks_stale_and_holds_candles_until_the_series_restarts(
    clock: VirtualClock, consumer: Consumer, xrp_candles: list[Candle]
) -> None:
    source = replay(xrp_candles, clock)
    policy = GapPolicy(backfill_attempts=2, retry_delay_s=1.0, resume_after_candles=3)
    feed = make_feed(source, clock, consumer, gap_policy=policy)
    hole = xrp_candles[6].ts_ms
    source.hide_everywhere(SYMBOL, hole)
    async with running(feed):
        await clock.advance(5 * TF / 1000 + 5)  # candle 7 closed: the hole is found
        assert feed.is_stale(SYMBOL)
        health = feed.health(SYMBOL)
        assert health.stale_reason is StaleReason.GAP
        assert (health.gap_from_ms, health.gap_to_ms) == (hole, xrp_candles[7].ts_ms)
        with pytest.raises(StaleDataError, match=SYMBOL):
            feed.require_fresh(SYMBOL)
        assert consumer.times(SYMBOL)[-1] == xrp_candles[5].ts_ms
        await clock.advance(TF / 1000)  # candle 8: still held, not handed out
        assert consumer.times(SYMBOL)[-1] == xrp_candles[5].ts_ms
        await clock.advance(TF / 1000)  # candle 9: 3 contiguous after the hole -> restart
    assert not feed.is_stale(SYMBOL)
    assert feed.health(SYMBOL).epoch == 1
    assert consumer.times(SYMBOL)[-3:] == [c.ts_ms for c in xrp_candles[7:10]]
    assert hole not in consumer.times(SYMBOL)
    assert feed.counters.stale_events[SYMBOL] == 1
    assert feed.counters.series_resets[SYMBOL] == 1
    # The consumer heard STALE before the held candles and HEALTHY (new epoch) before them too.
    stale_at = consumer.events.index(("stale", SYMBOL, xrp_candles[5].ts_ms))
    assert consumer.events[stale_at + 1][0] == "healthy"


async def test_gap_that_rest_fills_later_is_closed_without_a_restart(
    clock: VirtualClock, consumer: Consumer, xrp_candles: list[Candle]
) -> None:
    source = replay(xrp_candles, clock)
    feed = make_feed(source, clock, consumer, gap_policy=GapPolicy(backfill_attempts=1))
    hole = xrp_candles[6].ts_ms
    source.hide_everywhere(SYMBOL, hole)
    async with running(feed):
        await clock.advance(5 * TF / 1000 + 5)
        assert feed.is_stale(SYMBOL)
        source.rest_hidden.clear()  # the exchange's history catches up
        await clock.advance(TF / 1000)
    times = consumer.times(SYMBOL)
    assert is_contiguous(times, TF)
    assert hole in times
    assert not feed.is_stale(SYMBOL)
    assert feed.health(SYMBOL).epoch == 0


async def test_silence_marks_the_symbol_stale_and_data_makes_it_healthy_again(
    clock: VirtualClock, consumer: Consumer, xrp_candles: list[Candle]
) -> None:
    source = replay(xrp_candles, clock)
    feed = make_feed(source, clock, consumer, stale_after_timeframes=2.0)
    async with running(feed):
        await clock.advance(TF / 1000)
        assert not feed.is_stale(SYMBOL)
        source.is_stalled = True  # the socket stays open but says nothing
        source.fail_rest(1_000_000)  # and REST is down too
        await clock.advance(3 * TF / 1000)
        health = feed.health(SYMBOL)
        assert health.is_stale
        assert health.stale_reason is StaleReason.NO_DATA
        age = health.age_ms(clock.now_ms())
        assert age is not None
        assert age > 2 * TF
        assert feed.counters.reconnects[SYMBOL] >= 1  # the silent socket was replaced
        delivered = len(consumer.times(SYMBOL))
        source.is_stalled = False
        source.rest_failures_pending = 0
        await clock.advance(TF / 1000)
    assert not feed.is_stale(SYMBOL)
    times = consumer.times(SYMBOL)
    assert len(times) > delivered
    assert is_contiguous(times, TF)


async def test_outlier_is_rejected_counted_and_never_silently_skipped(
    clock: VirtualClock, consumer: Consumer, xrp_candles: list[Candle]
) -> None:
    spiked = list(xrp_candles)
    bad = spiked[6]
    spiked[6] = Candle(bad.ts_ms, bad.open, bad.close * 3, bad.low, bad.close * 3, bad.volume)
    source = replay(spiked, clock)
    policy = GapPolicy(backfill_attempts=1, resume_after_candles=2)
    feed = make_feed(source, clock, consumer, gap_policy=policy)
    async with running(feed):
        await clock.advance(6 * TF / 1000 + 5)
    assert feed.counters.outlier_rejections[SYMBOL] >= 1
    assert bad.ts_ms not in consumer.times(SYMBOL)
    assert feed.counters.stale_events[SYMBOL] == 1
    assert feed.health(SYMBOL).epoch == 1


@pytest.mark.parametrize(
    ("build", "word"),
    [
        (lambda s, c: CandleFeed(s, [], "5m", clock=c.now_ms, on_candle=print), "symbol"),
        (lambda s, c: CandleFeed(s, ["A", "A"], "5m", clock=c.now_ms, on_candle=print), "unique"),
        (lambda s, c: CandleFeed(s, ["A"], "5x", clock=c.now_ms, on_candle=print), "5x"),
    ],
)
def test_bad_feed_parameters_are_refused_naming_them(
    clock: VirtualClock,
    xrp_candles: list[Candle],
    build: Callable[[ReplayCandleSource, VirtualClock], CandleFeed],
    word: str,
) -> None:
    with pytest.raises(ValueError, match=word):
        build(replay(xrp_candles, clock), clock)


def test_unknown_symbol_is_named(
    clock: VirtualClock, consumer: Consumer, xrp_candles: list[Candle]
) -> None:
    feed = make_feed(replay(xrp_candles, clock), clock, consumer)
    with pytest.raises(KeyError, match="BTC/USDT"):
        feed.health("BTC/USDT")


async def test_rate_limited_rest_pauses_every_request_of_the_feed(
    clock: VirtualClock, consumer: Consumer, xrp_candles: list[Candle]
) -> None:
    source = replay(xrp_candles, clock)
    source.drop(SYMBOL, times=1_000_000)
    original = source.fetch_candles
    limited = [True]

    async def fetch(
        symbol: str, timeframe: str, since_ms: int | None = None, limit: int | None = None
    ) -> list[Candle]:
        if limited[0]:
            limited[0] = False
            source.rest_calls.append((clock.now_ms(), symbol, since_ms, limit))
            raise RateLimited(f"429 for {symbol}", retry_after_s=120.0)
        return await original(symbol, timeframe, since_ms, limit)

    source.fetch_candles = fetch  # type: ignore[method-assign]  # fault script
    feed = make_feed(source, clock, consumer, backoff=Backoff(initial_s=60, max_s=600))
    async with running(feed):
        await clock.advance(3 * TF / 1000)
    stamps = [stamp for stamp, *_ in source.rest_calls]
    assert stamps[1] - stamps[0] >= 120_000
    assert feed.counters.poll_errors[SYMBOL] == 1
    assert is_contiguous(consumer.times(SYMBOL), TF)


async def test_a_candle_the_socket_closed_is_taken_even_when_the_local_clock_lags(
    clock: VirtualClock, consumer: Consumer, xrp_candles: list[Candle]
) -> None:
    # The local clock is a minute behind the venue's (skew, or a replay clock anchored late):
    # the venue's closed candle arrives "before its close" by that clock. It is the venue's
    # word: delivered at once, not dropped and fetched again from REST a candle later.
    source = replay(xrp_candles, clock)
    feed = CandleFeed(
        source,
        [SYMBOL],
        "5m",
        clock=lambda: clock.now_ms() - 60_000,
        sleep=clock.sleep,
        on_candle=consumer.on_candle,
        on_health=consumer.on_health,
    )
    async with running(feed):
        await clock.advance(3 * TF / 1000)
    pushed = [start_ms(xrp_candles) + n * TF for n in range(4)]
    # the REST poll before the socket's first push anchors the series on the candle before
    assert consumer.times(SYMBOL) == [pushed[0] - TF, *pushed]
    assert [since for _, _, since, _ in source.rest_calls] == [None]  # no back-fill


async def test_candles_streamed_during_the_warm_up_follow_its_history_without_a_back_fill(
    clock: VirtualClock, consumer: Consumer, xrp_candles: list[Candle]
) -> None:
    # Subscribed before the REST warm-up (hold_streamed): candles the socket pushes meanwhile
    # wait, then follow the history. Subscribed after it, they reached no subscription and
    # each symbol back-filled the hole over the shared REST budget (issue 3 section 7).
    source = replay(xrp_candles, clock)
    feed = make_feed(source, clock, consumer)
    feed.hold_streamed()
    async with running(feed):
        await clock.advance(2 * TF / 1000)  # the socket pushes while the warm-up still runs
        assert consumer.times(SYMBOL) == []
        assert not [h for h in consumer.health if h.state is FeedState.STALE]
        await feed.ingest(SYMBOL, xrp_candles[:2])  # the warm-up's REST history
        assert consumer.times(SYMBOL) == [c.ts_ms for c in xrp_candles[:2]]
        feed.release_streamed()
        await clock.advance(TF / 1000)
    times = consumer.times(SYMBOL)
    assert times[:2] == [c.ts_ms for c in xrp_candles[:2]]
    assert len(times) >= 4
    assert is_contiguous(times, TF)
    assert source.rest_calls == []  # no poll, no back-fill
