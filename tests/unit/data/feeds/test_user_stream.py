"""UserStreamSupervisor: keep-alive cadence, restart on expiry and silence, resync (EX3)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from aegis.data.feeds import Backoff, Resync, UserStreamSupervisor, VirtualClock
from aegis.model.enums import LiquidityRole, OrderSide
from aegis.model.errors import VenueError
from aegis.model.events import Fill, OrderEventKind, OrderUpdate

pytestmark = pytest.mark.timeout(30)

SYMBOL = "BTC/USDT:USDT"


def fill(trade_id: str, ts_ns: int) -> Fill:
    return Fill(
        client_order_id="bot-1",
        symbol=SYMBOL,
        side=OrderSide.BUY,
        price=Decimal("90000.1"),
        quantity=Decimal("0.002"),
        fee=Decimal("0.072"),
        fee_currency="USDT",
        liquidity=LiquidityRole.TAKER,
        ts_ns=ts_ns,
        trade_id=trade_id,
    )


class FakeUserStream:
    """A scripted private stream: push updates, expire the key, go silent."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.queue: asyncio.Queue[list[OrderUpdate]] = asyncio.Queue()
        self.is_expired = False
        self.keepalive_ms: list[int] = []
        self.restarts_ms: list[int] = []
        self.calls: list[str] = []
        self.open_orders: list[str] = ["order-a"]
        self.fills: list[Fill] = []

    async def watch_order_updates(self) -> list[OrderUpdate]:
        self.calls.append("watch")
        if self.is_expired:
            raise VenueError("user stream: listenKeyExpired")
        return await self.queue.get()

    async def fetch_open_orders(self, symbol: str | None = None) -> list[str]:
        self.calls.append("open_orders")
        return list(self.open_orders)

    async def fetch_fills(self, symbol: str, since_ms: int | None = None) -> list[Fill]:
        self.calls.append(f"fills:{symbol}:{since_ms}")
        return [f for f in self.fills if since_ms is None or f.ts_ns // 1_000_000 >= since_ms]

    async def keep_alive(self) -> None:
        if self.is_expired:
            raise VenueError("keep-alive refused: listenKey does not exist (-1125)")
        self.keepalive_ms.append(self.clock.now_ms())

    async def restart_user_stream(self) -> None:
        self.restarts_ms.append(self.clock.now_ms())
        self.is_expired = False


class Recorder:
    def __init__(self) -> None:
        self.updates: list[OrderUpdate] = []
        self.resyncs: list[Resync[str]] = []
        self.order: list[str] = []

    def on_update(self, update: OrderUpdate) -> None:
        self.updates.append(update)
        self.order.append(f"update:{update.client_order_id}")

    def on_resync(self, resync: Resync[str]) -> None:
        self.resyncs.append(resync)
        self.order.append(f"resync:{resync.reason}")


@contextlib.asynccontextmanager
async def supervised(
    source: FakeUserStream, clock: VirtualClock, recorder: Recorder, **kwargs: float
) -> AsyncIterator[UserStreamSupervisor[str]]:
    supervisor: UserStreamSupervisor[str] = UserStreamSupervisor(
        source,
        [SYMBOL],
        clock=clock.now_ms,
        sleep=clock.sleep,
        on_update=recorder.on_update,
        on_resync=recorder.on_resync,
        backoff=Backoff(initial_s=1.0, max_s=8.0, jitter=0.0),
        **kwargs,
    )
    task = asyncio.create_task(supervisor.run(), name="user-stream-under-test")
    try:
        await clock.settle()
        yield supervisor
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def update(client_order_id: str, ts_ns: int = 0) -> OrderUpdate:
    return OrderUpdate(client_order_id, OrderEventKind.ACCEPT, ts_ns)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start_ms=1_700_000_000_000)


async def test_start_resyncs_then_passes_updates_on(clock: VirtualClock) -> None:
    source, recorder = FakeUserStream(clock), Recorder()
    async with supervised(source, clock, recorder) as supervisor:
        source.queue.put_nowait([update("o1"), update("o2")])
        await clock.advance(1)
        assert supervisor.is_connected
    assert recorder.order == ["resync:start", "update:o1", "update:o2"]
    assert recorder.resyncs[0].open_orders == ("order-a",)
    assert source.calls[0] == "watch"  # subscribed before the REST snapshot: no blind spot


class OpeningUserStream(FakeUserStream):
    """A source whose socket opens apart from the watch (a listenKey POST, a handshake)."""

    def __init__(self, clock: VirtualClock) -> None:
        super().__init__(clock)
        self.opened = asyncio.Event()

    async def open_user_stream(self) -> None:
        self.calls.append("open")
        await self.clock.sleep(0.5)  # the socket takes a while; the snapshot must wait
        self.opened.set()

    async def fetch_open_orders(self, symbol: str | None = None) -> list[str]:
        # events are only kept once the socket is up: a snapshot before it has a blind spot
        assert self.opened.is_set(), "REST snapshot taken before the user stream's socket"
        return await super().fetch_open_orders(symbol)


async def test_the_socket_is_open_before_the_rest_snapshot(clock: VirtualClock) -> None:
    source, recorder = OpeningUserStream(clock), Recorder()
    async with supervised(source, clock, recorder) as supervisor:
        await clock.advance(1)
        source.queue.put_nowait([update("o1")])
        await clock.advance(1)
        assert supervisor.is_connected
        assert supervisor.reconnects == 0
    assert source.calls[:3] == ["open", "watch", "open_orders"]
    assert recorder.order == ["resync:start", "update:o1"]


async def test_keepalive_runs_every_interval(clock: VirtualClock) -> None:
    source, recorder = FakeUserStream(clock), Recorder()
    start = clock.now_ms()
    async with supervised(source, clock, recorder, silence_timeout_s=1e6):
        await clock.advance(3 * 1800 + 10)
    assert [t - start for t in source.keepalive_ms] == [1_800_000, 3_600_000, 5_400_000]


async def test_expired_listen_key_error_restarts_and_resyncs(clock: VirtualClock) -> None:
    source, recorder = FakeUserStream(clock), Recorder()
    async with supervised(source, clock, recorder) as supervisor:
        source.queue.put_nowait([update("o1", ts_ns=clock.now_ms() * 1_000_000)])
        await clock.advance(1)
        # While the stream is down, an order fills: only the resync can tell us.
        source.fills.append(fill("t-1", clock.now_ms() * 1_000_000))
        source.is_expired = True
        source.queue.put_nowait([])  # wake the pending watch so the next one sees the expiry
        await clock.advance(5)
        assert supervisor.reconnects == 1
        assert supervisor.is_connected
    assert len(source.restarts_ms) == 1
    assert [r.reason for r in recorder.resyncs] == ["start", "error"]
    assert [f.trade_id for f in recorder.resyncs[1].fills] == ["t-1"]


async def test_failed_keepalive_recreates_the_stream(clock: VirtualClock) -> None:
    source, recorder = FakeUserStream(clock), Recorder()
    async with supervised(source, clock, recorder, silence_timeout_s=1e6) as supervisor:
        source.is_expired = True  # the key expired without the stream noticing
        await clock.advance(1800 + 5)
        assert supervisor.reconnects == 1
    assert source.restarts_ms
    assert [r.reason for r in recorder.resyncs] == ["start", "keepalive_failed"]


async def test_silent_stream_is_restarted_and_resynced(clock: VirtualClock) -> None:
    source, recorder = FakeUserStream(clock), Recorder()
    async with supervised(source, clock, recorder, silence_timeout_s=120) as supervisor:
        await clock.advance(119)
        assert supervisor.reconnects == 0
        await clock.advance(2 + 1)  # timeout plus the 1 s back-off
        assert supervisor.reconnects == 1
        source.queue.put_nowait([update("late")])
        await clock.advance(1)
    assert [r.reason for r in recorder.resyncs] == ["start", "silence"]
    assert recorder.order[-1] == "update:late"


async def test_every_reconnect_fetches_fills_since_the_last_message(clock: VirtualClock) -> None:
    source, recorder = FakeUserStream(clock), Recorder()
    async with supervised(
        source, clock, recorder, silence_timeout_s=60, fills_lookback_s=10
    ) as supervisor:
        source.queue.put_nowait([update("o1")])
        await clock.advance(1)
        seen_ms = supervisor.last_message_ms
        await clock.advance(200)  # silence -> restart, twice or more
        assert supervisor.reconnects >= 2
    assert len(recorder.resyncs) == supervisor.resyncs == supervisor.reconnects + 1
    assert seen_ms is not None
    assert recorder.resyncs[1].fills_since_ms == seen_ms - 10_000


def test_bad_parameters_are_named(clock: VirtualClock) -> None:
    with pytest.raises(ValueError, match="silence_timeout_s"):
        UserStreamSupervisor(
            FakeUserStream(clock),
            [SYMBOL],
            clock=clock.now_ms,
            on_update=print,
            on_resync=print,
            silence_timeout_s=0,
        )


async def test_restart_backoff_grows_while_the_stream_never_works(clock: VirtualClock) -> None:
    source, recorder = FakeUserStream(clock), Recorder()
    restarts_ms = source.restarts_ms

    async def broken_restart() -> None:
        restarts_ms.append(clock.now_ms())
        source.is_expired = True  # the new key is refused at once as well

    source.restart_user_stream = broken_restart  # type: ignore[method-assign]  # fault script
    source.is_expired = True
    async with supervised(source, clock, recorder, silence_timeout_s=1e6):
        await clock.advance(30)
    gaps = [b - a for a, b in itertools.pairwise(restarts_ms)]
    assert gaps[:3] == [2_000, 4_000, 8_000]  # 1, 2, 4, 8 s back-off (jitter 0), capped at 8
    assert set(gaps[3:]) == {8_000}


async def test_cancelling_the_supervisor_leaves_no_watch_task_behind() -> None:
    """Shutdown cancels the supervisor; its pending watch must be cancelled with it."""
    never = asyncio.get_running_loop().create_future()

    class SilentSource:
        async def watch_order_updates(self) -> list[object]:
            await never
            return []

        async def fetch_open_orders(self, symbol: str | None = None) -> list[object]:
            return []

        async def fetch_fills(self, symbol: str, since_ms: int | None = None) -> list[object]:
            return []

    async def ignore(*_: object) -> None:
        return None

    supervisor = UserStreamSupervisor(
        SilentSource(), ["XRP/USDT:USDT"], clock=lambda: 0, on_update=ignore, on_resync=ignore
    )
    task = asyncio.create_task(supervisor.run())
    for _ in range(20):
        await asyncio.sleep(0)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    leftovers = [t for t in asyncio.all_tasks() if t.get_name() == "user-stream-watch-timeout"]
    assert leftovers == []
