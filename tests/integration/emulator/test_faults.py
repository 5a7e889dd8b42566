"""Every fault flag, injected and observed through unmodified ccxt (or a raw client)."""

from __future__ import annotations

import asyncio

import aiohttp
import ccxt
import pytest

from aegis.model.errors import ConfigError
from aegis.venues.emulator.server import EmulatorServer

from .conftest import HISTORY, SYMBOL
from .helpers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


async def test_429_is_rate_limit_exceeded_with_retry_after(client, server: EmulatorServer) -> None:
    await client.load_markets()
    server.set_fault("retry_after_s", "7")
    server.set_fault("http_429", "1")
    with pytest.raises(ccxt.DDoSProtection) as raised:
        await client.fetch_ticker(SYMBOL)
    assert "-1003" in str(raised.value)
    assert client.last_response_headers["Retry-After"] == "7"
    server.set_fault("http_429", "0")
    assert (await client.fetch_ticker(SYMBOL))["last"] > 0


async def test_418_ban_is_ddos_protection(client, server: EmulatorServer) -> None:
    await client.load_markets()
    server.set_fault("http_418", "1")
    with pytest.raises(ccxt.DDoSProtection, match="418"):
        await client.fetch_balance()
    assert server.stats()["faults"]["injected"]["http_418"] == 1


async def test_5xx_share_is_seeded_and_reproducible(client, server: EmulatorServer) -> None:
    await client.load_markets()

    async def outcomes() -> list[bool]:
        server.set_fault("seed", "42")
        server.set_fault("http_5xx", "0.5")
        results = []
        for _ in range(12):
            try:
                await client.fetch_time()
                results.append(True)
            except ccxt.OperationFailed:  # ccxt's class for -1001
                results.append(False)
        server.set_fault("http_5xx", "0")
        return results

    first, second = await outcomes(), await outcomes()
    assert first == second
    assert 0 < first.count(False) < 12


async def test_timeout_fault_is_a_request_timeout(client, server: EmulatorServer) -> None:
    await client.load_markets()
    client.timeout = 300  # ms
    server.set_fault("timeout_s", "5")
    server.set_fault("http_timeout", "1")
    with pytest.raises(ccxt.RequestTimeout):
        await client.fetch_ticker(SYMBOL)


async def test_bad_signature_bad_key_and_stale_timestamp(client, server: EmulatorServer) -> None:
    await client.load_markets()
    client.secret = "not-the-secret"  # noqa: S105 - a wrong secret on purpose
    with pytest.raises(ccxt.AuthenticationError, match="-1022"):
        await client.fetch_balance()
    client.apiKey = "unknown-key"
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        await client.fetch_balance()
    stale = EmulatorServer(server.config, wall_clock_ms=lambda: 1_000_000)
    await stale.start()
    try:
        import ccxt.async_support as ccxt_async

        from .conftest import KEY, SECRET, _usdm

        late = _usdm(ccxt_async, stale.base_url, KEY, SECRET)
        with pytest.raises(ccxt.InvalidNonce, match="-1021"):
            await late.fetch_balance()
        await late.close()
    finally:
        await stale.stop()


@pytest.mark.parametrize(
    ("mode", "error"),
    [("error", ccxt.RequestTimeout), ("drop", ccxt.NetworkError), ("timeout", ccxt.RequestTimeout)],
)
async def test_lost_ack_creates_the_order_and_fetch_by_client_id_finds_it(
    client, server: EmulatorServer, mode: str, error: type[Exception]
) -> None:
    await client.load_markets()
    client.timeout = 500  # ms, for the timeout mode
    server.set_fault("timeout_s", "5")
    server.set_fault("lost_ack_mode", mode)
    server.set_fault("lost_ack", "1")
    with pytest.raises(error):
        await client.create_order(SYMBOL, "market", "buy", 10, params={"newClientOrderId": "ack-1"})
    found = await client.fetch_order(None, SYMBOL, params={"clientOrderId": "ack-1"})
    assert found["clientOrderId"] == "ack-1"
    assert found["amount"] == 10
    server.step()
    assert (await client.fetch_order(found["id"], SYMBOL))["status"] == "closed"
    assert len(await client.fetch_orders(SYMBOL)) == 1


async def test_fill_delay_keeps_orders_resting_for_n_candles(
    client, server: EmulatorServer
) -> None:
    await client.load_markets()
    server.set_fault("fill_delay", "2")
    order = await client.create_order(SYMBOL, "market", "buy", 10)
    server.step(2)
    assert (await client.fetch_order(order["id"], SYMBOL))["status"] == "open"
    server.step()
    assert (await client.fetch_order(order["id"], SYMBOL))["status"] == "closed"


async def test_gap_leaves_candles_out_of_rest_and_stream(
    client, pro_client, server: EmulatorServer
) -> None:
    await pro_client.load_markets()
    received: list[list[float]] = []
    task = asyncio.create_task(pro_client.watch_ohlcv(SYMBOL, "5m"))
    await wait_until(lambda: any(c.streams for c in server.hub.connections))
    server.set_fault("gap", "2")
    server.step(3)  # two left out, the third is published
    received = await asyncio.wait_for(task, 5)
    feed = server.exchange.feed("usdm", "XRPUSDT")
    assert feed is not None
    assert received[-1][0] == int(feed.candles.ts_ms[HISTORY + 2])
    rest = await client.fetch_ohlcv(SYMBOL, "5m", limit=3)
    assert [c[0] for c in rest] == [
        int(feed.candles.ts_ms[i]) for i in (HISTORY - 2, HISTORY - 1, HISTORY + 2)
    ]


async def test_stream_gap_is_only_missing_from_the_stream(
    client, pro_client, server: EmulatorServer
) -> None:
    await pro_client.load_markets()
    task = asyncio.create_task(pro_client.watch_ohlcv(SYMBOL, "5m"))
    await wait_until(lambda: any(c.streams for c in server.hub.connections))
    server.set_fault("stream_gap", "1")
    server.step(2)
    candles = await asyncio.wait_for(task, 5)
    feed = server.exchange.feed("usdm", "XRPUSDT")
    assert feed is not None
    assert candles[-1][0] == int(feed.candles.ts_ms[HISTORY + 1])
    assert int(feed.candles.ts_ms[HISTORY]) not in [c[0] for c in candles]
    rest = await client.fetch_ohlcv(SYMBOL, "5m", limit=2)
    assert [c[0] for c in rest] == [
        int(feed.candles.ts_ms[HISTORY]),
        int(feed.candles.ts_ms[HISTORY + 1]),
    ]


async def test_ws_drop_closes_sockets_after_n_candles_and_ccxt_reconnects(
    pro_client, server: EmulatorServer
) -> None:
    await pro_client.load_markets()
    await _first_kline(pro_client, server)
    server.set_fault("ws_drop", "1")
    server.step()  # the candle is sent, then the socket is closed
    await wait_until(lambda: len(server.hub.connections) == 0)
    await _first_kline(pro_client, server)  # a new watch reconnects
    assert server.stats()["requests"]["WS market"] == 2
    assert server.stats()["faults"]["injected"]["ws_drop"] == 1


async def _first_kline(pro_client: object, server: EmulatorServer) -> None:
    task = asyncio.create_task(pro_client.watch_ohlcv(SYMBOL, "5m"))  # type: ignore[attr-defined]
    await wait_until(lambda: any(c.streams for c in server.hub.connections))
    server.step()
    await asyncio.wait_for(task, 5)


async def test_ws_stall_keeps_the_socket_open_but_silent(server: EmulatorServer) -> None:
    ws_url = server.base_url.replace("http", "ws") + "/market/ws/0"
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(ws_url, autoping=False) as socket,
    ):
        await socket.send_json({"method": "SUBSCRIBE", "params": ["xrpusdt@kline_5m"], "id": 1})
        assert (await asyncio.wait_for(socket.receive_json(), 5)) == {"result": None, "id": 1}
        server.set_fault("ws_stall", "1")
        server.step()
        await socket.ping()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(socket.receive(), 0.3)
        assert server.stats()["ws_frames_dropped"] >= 1
        assert len(server.hub.connections) == 1
        server.set_fault("ws_stall", "0")
        server.step()
        event = await asyncio.wait_for(socket.receive_json(), 5)
        assert event["e"] == "kline"


async def test_admin_endpoints_step_faults_and_stats(server: EmulatorServer) -> None:
    async with aiohttp.ClientSession() as session:
        stepped = await (await session.post(f"{server.base_url}/_admin/step?candles=3")).json()
        assert stepped["candles_published"] == 3
        faults = await session.post(f"{server.base_url}/_admin/faults", json={"http_5xx": 0.25})
        assert (await faults.json())["faults"]["http_5xx"] == 0.25
        bad = await session.post(f"{server.base_url}/_admin/faults", json={"nope": 1})
        assert bad.status == 400
        assert "unknown fault 'nope'" in (await bad.json())["error"]
        await session.get(f"{server.base_url}/fapi/v9/missing")
        stats = await (await session.get(f"{server.base_url}/_admin/stats")).json()
        assert stats["unhandled"] == ["GET /fapi/v9/missing"]


def test_bad_fault_values_are_refused_with_the_name(server: EmulatorServer) -> None:
    with pytest.raises(ConfigError, match="http_429"):
        server.set_fault("http_429", "2")
    with pytest.raises(ConfigError, match="lost_ack_mode"):
        server.set_fault("lost_ack_mode", "maybe")
