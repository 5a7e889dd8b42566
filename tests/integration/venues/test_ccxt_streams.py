"""CcxtVenue streams against the Binance emulator: candle wake-ups and the listenKey (EX2, EX3)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest

from aegis.model import Order, OrderEventKind, OrderSide, OrderStatus, OrderType, VenueError
from aegis.venues.ccxt import CcxtVenue, RetryPolicy
from aegis.venues.emulator import EmulatorServer

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
    return await connect_venue(server, RetryPolicy(max_attempts=2, base_delay_s=0.01, seed=1))


async def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        await asyncio.sleep(0.01)


def cached_kline_times(venue: CcxtVenue) -> list[int]:
    rows = (venue.exchange.ohlcvs.get(XRP) or {}).get("5m") or []
    return [int(row[0]) for row in rows]


async def test_klines_pushed_between_watch_calls_are_each_returned_once_and_at_once(
    venue: CcxtVenue, server: EmulatorServer
) -> None:
    first_open = server.exchange.now_ms("usdm", "XRPUSDT")
    watch = asyncio.create_task(venue.watch_candles(XRP, "5m"))
    await wait_until(lambda: any(c.streams for c in server.hub.connections))
    server.step()
    delivered = [c.ts_ms for c in await asyncio.wait_for(watch, 5)]
    # Four klines arrive while nobody waits on watch_ohlcv: they sit in ccxt's cache.
    for _ in range(4):
        server.step()
    expected = [first_open + i * TF_MS for i in range(5)]
    await wait_until(lambda: cached_kline_times(venue)[-1:] == expected[-1:])
    while len(delivered) < len(expected):
        # No new message comes: each call must answer from the cache, not wait for one.
        batch = await asyncio.wait_for(venue.watch_candles(XRP, "5m"), 2)
        delivered.extend(c.ts_ms for c in batch)
    assert delivered == expected
    # Nothing is returned twice: the next call waits for the next kline.
    again = asyncio.create_task(venue.watch_candles(XRP, "5m"))
    await asyncio.sleep(0.05)
    assert not again.done()
    server.step()
    assert [c.ts_ms for c in await asyncio.wait_for(again, 5)] == [expected[-1] + TF_MS]
    assert server.stats()["unhandled_count"] == 0


async def test_keep_alive_extends_the_key_and_fails_once_it_expired(
    venue: CcxtVenue, server: EmulatorServer
) -> None:
    await venue.keep_alive()  # no stream yet: nothing to extend, nothing sent
    assert venue.user_stream.keepalives == 0
    watch = asyncio.create_task(venue.watch_order_updates())
    await wait_until(lambda: any(c.listen_key is not None for c in server.hub.connections))
    key = venue.user_stream.listen_key()
    await venue.keep_alive()
    assert venue.user_stream.keepalives == 1
    server.set_fault("listen_key_expire", "0")
    with pytest.raises(VenueError):
        await asyncio.wait_for(watch, 5)  # listenKeyExpired closes the stream
    with pytest.raises(VenueError, match="keep_alive"):
        await venue.keep_alive()  # -1125: the supervisor restarts the stream
    await venue.restart_user_stream()
    assert venue.user_stream.listen_key() not in (None, key)
    await venue.keep_alive()
    assert venue.user_stream.keepalives == 2
    assert server.stats()["unhandled_count"] == 0


async def test_account_events_before_the_first_watch_keep_the_opened_user_stream_alive(
    venue: CcxtVenue, server: EmulatorServer
) -> None:
    # The socket is opened before anything watches it (the start-up snapshot comes after).
    # A fill then sends ORDER_TRADE_UPDATE and ACCOUNT_UPDATE before the first watch_orders:
    # ccxt.pro's balance handler reads the account type from the socket's subscriptions, and
    # without it the socket died on a KeyError and every later fill was lost.
    await venue.user_stream.open()
    order = Order(
        client_order_id="early-1", bot_id="bot1", symbol=XRP, side=OrderSide.BUY,
        type=OrderType.MARKET, quantity=Decimal(20), status=OrderStatus.SUBMITTED,
    )  # fmt: skip
    await venue.submit(order)
    server.step()  # the fill: both events reach the socket while nobody watches
    await wait_until(lambda: bool(getattr(venue.exchange, "orders", None)))
    updates = await asyncio.wait_for(venue.watch_order_updates(), 5)
    assert OrderEventKind.FILL in {u.kind for u in updates}
    # the same socket still delivers the next fill
    later = Order(
        client_order_id="early-2", bot_id="bot1", symbol=XRP, side=OrderSide.SELL,
        type=OrderType.MARKET, quantity=Decimal(20), status=OrderStatus.SUBMITTED,
    )  # fmt: skip
    await venue.submit(later)
    watch = asyncio.create_task(venue.watch_order_updates())
    server.step()
    kinds = set()
    while OrderEventKind.FILL not in kinds:
        kinds |= {
            u.kind for u in await asyncio.wait_for(watch, 5) if u.client_order_id == "early-2"
        }
        watch = asyncio.create_task(venue.watch_order_updates())
    watch.cancel()
