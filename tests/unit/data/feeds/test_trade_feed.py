"""TradeFeed on a virtual clock over real BTC/USDT trades: reconnect, REST fallback, de-dup."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest

from aegis.data import bundled_data_path, read_trades
from aegis.data.feeds import Backoff, TradeFeed, TradeSource, TradeTape, VirtualClock
from aegis.model.errors import RateLimited, TransientVenueError

pytestmark = pytest.mark.timeout(30)

SYMBOL = "BTC/USDT"


@dataclass(frozen=True, slots=True)
class Tick:
    trade_id: str
    ts_ms: int
    price: float


@pytest.fixture(scope="module")
def ticks() -> list[Tick]:
    """The first 300 real trades of the bundled Binance BTC/USDT file, ids as on the stream."""
    trades = read_trades(bundled_data_path("binance_BTC-USDT_trades.csv.gz"))
    return [Tick(str(i + 1), int(trades.ts_ms[i]), float(trades.price[i])) for i in range(300)]


class FakeTradeSource:
    """A socket fed by the test (a batch, or an error = dropped) and a REST history."""

    def __init__(self, history: Sequence[Tick]) -> None:
        self.socket: asyncio.Queue[list[Tick] | Exception] = asyncio.Queue()
        self.history = list(history)
        self.rest_visible = 0  # how many history trades REST knows
        self.rest_calls: list[int | None] = []
        self.rest_errors: list[Exception] = []

    async def watch_trades(self, symbol: str) -> list[Tick]:
        item = await self.socket.get()
        if isinstance(item, Exception):
            raise item
        return item

    async def fetch_trades(self, symbol: str, since_ms: int | None = None) -> list[Tick]:
        self.rest_calls.append(since_ms)
        if self.rest_errors:
            raise self.rest_errors.pop(0)
        known = self.history[: self.rest_visible]
        return [t for t in known if since_ms is None or t.ts_ms >= since_ms]


class Tape:
    def __init__(self) -> None:
        self.ids: list[str] = []

    def on_trade(self, symbol: str, trade: Tick) -> None:
        self.ids.append(trade.trade_id)


def ids(trades: Sequence[Tick]) -> list[str]:
    return [t.trade_id for t in trades]


@contextlib.asynccontextmanager
async def running(feed: TradeFeed[Tick]) -> AsyncIterator[None]:
    task = asyncio.create_task(feed.run(), name="trade-feed-under-test")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def make_feed(
    source: FakeTradeSource, clock: VirtualClock, tape: Tape, **kw: object
) -> TradeFeed[Tick]:
    return TradeFeed(
        source,
        [SYMBOL],
        clock=clock.now_ms,
        sleep=clock.sleep,
        on_trade=tape.on_trade,
        backoff=Backoff(initial_s=1.0, max_s=8.0, jitter=0.0, seed=3),
        **{"poll_interval_s": 1.0, **kw},  # type: ignore[arg-type]  # test helper forwards keyword options as-is
    )


def test_fake_source_satisfies_the_protocol(ticks: list[Tick]) -> None:
    source: TradeSource[Tick] = FakeTradeSource(ticks)
    assert isinstance(source, TradeSource)


async def test_socket_trades_are_delivered_in_order_and_once(ticks: list[Tick]) -> None:
    clock = VirtualClock(start_ms=ticks[0].ts_ms)
    source, tape = FakeTradeSource(ticks), Tape()
    feed = make_feed(source, clock, tape)
    async with running(feed):
        source.socket.put_nowait(list(reversed(ticks[:10])))  # out of order within a batch
        source.socket.put_nowait(ticks[5:20])  # overlaps the first batch
        await clock.settle()
        await clock.advance(5)
    assert tape.ids == ids(ticks[:20])
    assert feed.counters.duplicates[SYMBOL] == 5
    assert feed.counters.delivered[SYMBOL] == 20
    assert feed.last_trade_ms(SYMBOL) == ticks[19].ts_ms
    assert source.rest_calls == []  # a healthy socket never polls, not even at start


async def test_no_trade_yet_means_no_age() -> None:
    clock = VirtualClock(start_ms=1_000)
    feed = make_feed(FakeTradeSource([]), clock, Tape())
    assert feed.last_trade_ms(SYMBOL) is None
    assert feed.age_ms(SYMBOL, 5_000) is None


async def test_rest_takes_over_while_down_and_the_switch_back_loses_and_repeats_nothing(
    ticks: list[Tick],
) -> None:
    clock = VirtualClock(start_ms=ticks[0].ts_ms)
    source, tape = FakeTradeSource(ticks), Tape()
    feed = make_feed(source, clock, tape)
    async with running(feed):
        source.socket.put_nowait(ticks[:50])
        await clock.settle()
        source.socket.put_nowait(TransientVenueError("socket dropped"))
        source.rest_visible = 120
        await clock.settle()
        assert not feed.is_socket_up(SYMBOL)
        await clock.advance(1.0)  # the poller's next tick serves the down symbol
        assert tape.ids == ids(ticks[:120])
        assert source.rest_calls[0] == ticks[49].ts_ms  # from the last delivered trade on
        # More trades happen; the socket comes back with an overlapping batch only.
        source.rest_visible = 200
        source.socket.put_nowait(ticks[180:220])
        await clock.advance(1.0)  # back-off over: resubscribe, catch up, then the batch
        assert feed.is_socket_up(SYMBOL)
    assert tape.ids == ids(ticks[:220])
    assert feed.counters.reconnects[SYMBOL] == 1
    assert feed.counters.polls[SYMBOL] >= 1
    assert feed.counters.catch_ups[SYMBOL] == 1
    assert feed.counters.rest_trades[SYMBOL] == 150
    # 180..199 came on both paths; each REST call also repeats the last millisecond (inclusive)
    assert feed.counters.duplicates[SYMBOL] >= 20
    assert feed.counters.late[SYMBOL] == 0


async def test_reconnect_delays_follow_the_backoff(ticks: list[Tick]) -> None:
    clock = VirtualClock(start_ms=ticks[0].ts_ms)
    source, tape = FakeTradeSource(ticks), Tape()
    feed = make_feed(source, clock, tape)
    async with running(feed):
        for _ in range(3):
            source.socket.put_nowait(TransientVenueError("refused"))
        await clock.settle()
        assert feed.counters.reconnects[SYMBOL] == 1
        await clock.advance(1.0)  # 1 s, then 2 s, then 4 s (jitter 0)
        assert feed.counters.reconnects[SYMBOL] == 2
        await clock.advance(1.9)
        assert feed.counters.reconnects[SYMBOL] == 2
        await clock.advance(0.1)
        assert feed.counters.reconnects[SYMBOL] == 3


async def test_silent_socket_counts_as_dropped(ticks: list[Tick]) -> None:
    clock = VirtualClock(start_ms=ticks[0].ts_ms)
    source, tape = FakeTradeSource(ticks), Tape()
    feed = make_feed(source, clock, tape, silence_timeout_s=10.0)
    async with running(feed):
        await clock.advance(10.0)
        assert feed.counters.reconnects[SYMBOL] == 1


async def test_a_rate_limited_poll_pauses_rest_and_is_counted(ticks: list[Tick]) -> None:
    clock = VirtualClock(start_ms=ticks[0].ts_ms)
    source, tape = FakeTradeSource(ticks), Tape()
    feed = make_feed(source, clock, tape)
    async with running(feed):
        source.socket.put_nowait(ticks[:5])
        await clock.settle()
        source.rest_errors.append(RateLimited("429 on trades", retry_after_s=30.0))
        source.rest_visible = 40
        source.socket.put_nowait(TransientVenueError("socket dropped"))
        await clock.advance(1.0)
        assert feed.counters.poll_errors[SYMBOL] == 1
        await clock.advance(29.0)
        assert len(source.rest_calls) == 1  # everyone waits out Retry-After
        await clock.advance(2.0)
    assert len(source.rest_calls) >= 2
    assert tape.ids == ids(ticks[:40])


def test_tape_drops_late_trades_and_forgets_ids_beyond_its_window(ticks: list[Tick]) -> None:
    tape: TradeTape[Tick] = TradeTape(window=3)
    assert tape.accept(ticks[5:8]) == (ticks[5:8], 0, 0)
    assert tape.accept([ticks[2], ticks[7], ticks[8]]) == ([ticks[8]], 1, 1)
    assert tape.last_ts_ms == ticks[8].ts_ms
    with pytest.raises(ValueError, match="window must be >= 1, got 0"):
        TradeTape(window=0)


def test_numeric_ids_sort_as_numbers_within_one_millisecond() -> None:
    tape: TradeTape[Tick] = TradeTape()
    batch = [Tick("10", 5, 1.0), Tick("9", 5, 1.0)]
    fresh, _, _ = tape.accept(batch)
    assert ids(fresh) == ["9", "10"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"poll_interval_s": 0.0}, "poll_interval_s must be positive, got 0.0"),
        ({"silence_timeout_s": -1.0}, "silence_timeout_s must be positive, got -1.0"),
    ],
)
def test_bad_settings_are_named(kwargs: dict[str, float], message: str) -> None:
    clock = VirtualClock()
    with pytest.raises(ValueError, match=message):
        make_feed(FakeTradeSource([]), clock, Tape(), **kwargs)


def test_symbols_must_be_given_and_unique() -> None:
    clock = VirtualClock()
    with pytest.raises(ValueError, match="at least one symbol"):
        TradeFeed(FakeTradeSource([]), [], clock=clock.now_ms, on_trade=Tape().on_trade)
    with pytest.raises(ValueError, match="unique"):
        TradeFeed(
            FakeTradeSource([]), [SYMBOL, SYMBOL], clock=clock.now_ms, on_trade=Tape().on_trade
        )
