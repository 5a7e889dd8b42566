"""Websocket market streams and the user-data stream through unmodified ccxt.pro."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import ccxt
import pytest

from aegis.venues.emulator.server import EmulatorServer

from .conftest import HISTORY, KEY, SYMBOL
from .helpers import user_sockets, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


async def test_watch_ohlcv_receives_each_closed_kline(pro_client, server: EmulatorServer) -> None:
    await pro_client.load_markets()
    task = asyncio.create_task(pro_client.watch_ohlcv(SYMBOL, "5m"))
    await wait_until(lambda: any(c.streams for c in server.hub.connections))
    server.step()
    candles = await asyncio.wait_for(task, 5)
    feed = server.exchange.feed("usdm", "XRPUSDT")
    assert feed is not None
    assert candles[-1][0] == int(feed.candles.ts_ms[HISTORY])
    assert candles[-1][4] == pytest.approx(float(feed.candles.close[HISTORY]))
    paths = server.stats()["requests"]
    assert paths["WS market"] >= 1


async def test_watch_ticker_trades_and_mark_price(pro_client, server: EmulatorServer) -> None:
    await pro_client.load_markets()
    tasks = [
        asyncio.create_task(pro_client.watch_ticker(SYMBOL)),
        asyncio.create_task(pro_client.watch_trades(SYMBOL)),
        asyncio.create_task(pro_client.watch_bids_asks([SYMBOL])),
    ]
    await wait_until(lambda: sum(len(c.streams) for c in server.hub.connections) >= 3)
    server.step()
    ticker, trades, bids_asks = await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert ticker["last"] > 0
    assert trades[-1]["price"] == pytest.approx(ticker["last"])
    assert bids_asks[SYMBOL]["bid"] < bids_asks[SYMBOL]["ask"]


async def test_user_stream_pushes_order_and_account_updates(
    pro_client, server: EmulatorServer
) -> None:
    await pro_client.load_markets()
    orders_task = asyncio.create_task(pro_client.watch_orders(SYMBOL))
    await wait_until(lambda: user_sockets(server) == 1)
    created = await pro_client.create_order(SYMBOL, "market", "buy", 20)
    new_orders = await asyncio.wait_for(orders_task, 5)
    assert new_orders[-1]["id"] == created["id"]
    assert new_orders[-1]["status"] == "open"
    orders_task = asyncio.create_task(pro_client.watch_orders(SYMBOL))
    balance_task = asyncio.create_task(pro_client.watch_balance())
    await asyncio.sleep(0)  # let both watchers register before the fill
    server.step()
    filled = await asyncio.wait_for(orders_task, 5)
    balance = await asyncio.wait_for(balance_task, 5)
    assert filled[-1]["status"] == "closed"
    assert filled[-1]["filled"] == pytest.approx(20)
    assert 9990 < balance["USDT"]["total"] < 10000  # the taker fee was paid


async def test_listen_key_expiry_is_announced_and_the_key_stops_working(
    server: EmulatorServer,
) -> None:
    async with aiohttp.ClientSession(headers={"X-MBX-APIKEY": KEY}) as session:
        created = await session.post(f"{server.base_url}/fapi/v1/listenKey")
        key = (await created.json())["listenKey"]
        ws_url = server.base_url.replace("http", "ws") + f"/private/ws?listenKey={key}"
        async with session.ws_connect(ws_url) as socket:
            server.set_fault("listen_key_expire", "0")
            message = await asyncio.wait_for(socket.receive(), 5)
            event = json.loads(message.data)
            assert event["e"] == "listenKeyExpired"
            assert event["listenKey"] == key
            closing = await asyncio.wait_for(socket.receive(), 5)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        keep_alive = await session.put(f"{server.base_url}/fapi/v1/listenKey")
        assert (await keep_alive.json())["code"] == -1125
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(ws_url)
        renewed = await session.post(f"{server.base_url}/fapi/v1/listenKey")
        new_key = (await renewed.json())["listenKey"]
        assert new_key != key
        ws_url = server.base_url.replace("http", "ws") + f"/private/ws?listenKey={new_key}"
        async with session.ws_connect(ws_url):
            await wait_until(lambda: user_sockets(server) == 1)


async def test_ccxt_pro_sees_the_stream_end_when_its_listen_key_expires(
    pro_client, server: EmulatorServer
) -> None:
    await pro_client.load_markets()
    task = asyncio.create_task(pro_client.watch_orders(SYMBOL))
    await wait_until(lambda: user_sockets(server) == 1)
    server.set_fault("listen_key_expire", "0")
    with pytest.raises(ccxt.NetworkError):
        await asyncio.wait_for(task, 5)
    with pytest.raises(ccxt.ExchangeError, match="-1125"):
        await pro_client.fapiPrivatePutListenKey()
