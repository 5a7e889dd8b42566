"""Orders end to end through unmodified ccxt.async_support.binanceusdm."""

from __future__ import annotations

import ccxt
import ccxt.async_support as ccxt_async
import pytest

from aegis.venues.emulator.server import EmulatorServer

from .conftest import SYMBOL

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


async def test_market_order_fills_at_the_next_candle_open(client, server: EmulatorServer) -> None:
    await client.load_markets()
    order = await client.create_order(
        SYMBOL, "market", "buy", 20, params={"newClientOrderId": "mkt-1"}
    )
    assert order["status"] == "open"
    assert order["clientOrderId"] == "mkt-1"
    feed = server.exchange.feed("usdm", "XRPUSDT")
    assert feed is not None
    next_open = float(feed.candles.open[feed.cursor])
    server.step()
    filled = await client.fetch_order(order["id"], SYMBOL)
    assert filled["status"] == "closed"
    assert filled["average"] == pytest.approx(next_open)
    trades = await client.fetch_my_trades(SYMBOL)
    assert [t["amount"] for t in trades] == [20]
    assert trades[0]["fee"]["cost"] == pytest.approx(20 * next_open * 0.0005)
    positions = await client.fetch_positions([SYMBOL])
    assert positions[0]["contracts"] == pytest.approx(20)
    assert positions[0]["side"] == "long"


async def test_limit_rests_then_fills_and_balance_pays_the_maker_fee(client, server) -> None:
    await client.load_markets()
    ticker = await client.fetch_ticker(SYMBOL)
    price = round(ticker["last"] * 0.995, 4)
    order = await client.create_order(SYMBOL, "limit", "buy", 10, price)
    assert (await client.fetch_open_orders(SYMBOL))[0]["id"] == order["id"]
    for _ in range(200):
        server.step()
        if (await client.fetch_order(order["id"], SYMBOL))["status"] == "closed":
            break
    fetched = await client.fetch_order(order["id"], SYMBOL)
    assert fetched["status"] == "closed"
    assert fetched["average"] == pytest.approx(price)
    balance = await client.fetch_balance()
    assert balance["USDT"]["total"] < 10000
    assert await client.fetch_open_orders(SYMBOL) == []


async def test_partial_fill_then_cancel_keeps_the_filled_part(
    partial_server: EmulatorServer,
) -> None:
    import ccxt.async_support as ccxt_async

    from .conftest import KEY, SECRET, _usdm

    client = _usdm(ccxt_async, partial_server.base_url, KEY, SECRET)
    try:
        await client.load_markets()
        order = await client.create_order(SYMBOL, "market", "buy", 300)
        partial_server.step()
        fetched = await client.fetch_order(order["id"], SYMBOL)
        assert fetched["status"] == "open"
        assert 0 < fetched["filled"] < 300
        canceled = await client.cancel_order(order["id"], SYMBOL)
        assert canceled["status"] == "canceled"
        assert canceled["filled"] == pytest.approx(fetched["filled"])
        position = (await client.fetch_positions([SYMBOL]))[0]
        assert position["contracts"] == pytest.approx(fetched["filled"])
    finally:
        await client.close()


async def test_cancel_twice_answers_unknown_order(client, server) -> None:
    await client.load_markets()
    price = round((await client.fetch_ticker(SYMBOL))["last"] * 0.9, 4)
    order = await client.create_order(SYMBOL, "limit", "buy", 10, price)
    await client.cancel_order(order["id"], SYMBOL)
    with pytest.raises(ccxt.OrderNotFound, match="-2011"):
        await client.cancel_order(order["id"], SYMBOL)
    with pytest.raises(ccxt.OrderNotFound, match="-2013"):
        await client.fetch_order("999", SYMBOL)


async def test_reduce_only_closes_the_position_and_is_refused_without_one(client, server) -> None:
    await client.load_markets()
    await client.create_order(SYMBOL, "market", "sell", 30)
    server.step()
    await client.create_order(SYMBOL, "market", "buy", 30, params={"reduceOnly": True})
    server.step()
    assert await client.fetch_positions([SYMBOL]) == []  # v3 lists open positions only
    with pytest.raises(ccxt.InvalidOrder, match="-2022"):
        await client.create_order(SYMBOL, "market", "buy", 30, params={"reduceOnly": True})


async def test_reduce_only_below_min_notional_is_accepted_and_fills(
    client: ccxt_async.binanceusdm, server: EmulatorServer
) -> None:
    # Binance exempts reduce-only orders from MIN_NOTIONAL (5 USDT on XRPUSDT): 2 XRP ~ 2.4 USDT.
    await client.load_markets()
    await client.create_order(SYMBOL, "market", "buy", 10)
    server.step()
    with pytest.raises(ccxt.InvalidOrder, match="-4164"):
        await client.create_order(SYMBOL, "market", "sell", 2)
    market = await client.create_order(SYMBOL, "market", "sell", 2, params={"reduceOnly": True})
    price = round((await client.fetch_ticker(SYMBOL))["last"] * 1.02, 4)
    limit = await client.create_order(SYMBOL, "limit", "sell", 2, price, {"reduceOnly": True})
    server.step()
    assert (await client.fetch_order(market["id"], SYMBOL))["status"] == "closed"
    assert (await client.fetch_order(limit["id"], SYMBOL))["status"] == "open"
    assert (await client.fetch_positions([SYMBOL]))[0]["contracts"] == 8


async def test_stop_market_via_algo_order_triggers_and_fills(client, server) -> None:
    await client.load_markets()
    await client.create_order(SYMBOL, "market", "buy", 20)
    server.step()
    feed = server.exchange.feed("usdm", "XRPUSDT")
    assert feed is not None
    last = float(feed.candles.close[feed.cursor - 1])
    trigger = round(last * 0.997, 4)
    stop = await client.create_order(
        SYMBOL, "market", "sell", 20,
        params={"stopLossPrice": trigger, "reduceOnly": True, "clientOrderId": "stop-1"},
    )  # fmt: skip
    assert server.stats()["requests"]["POST /fapi/v1/algoOrder"] == 1
    assert stop["clientOrderId"] == "stop-1"
    assert (await client.fetch_open_orders(SYMBOL, params={"trigger": True}))[0]["id"] == stop["id"]
    for _ in range(300):
        server.step()
        if (
            server.exchange.accounts["key-alice"].venues["usdm"].algos[int(stop["id"])].algo_status
            != "NEW"
        ):
            break
    fetched = await client.fetch_order(stop["id"], SYMBOL, params={"trigger": True})
    assert fetched["status"] == "closed"
    assert await client.fetch_positions([SYMBOL]) == []
    trades = await client.fetch_my_trades(SYMBOL)
    assert trades[-1]["side"] == "sell"
    assert trades[-1]["price"] <= trigger


async def test_fetch_order_by_client_order_id(client, server) -> None:
    await client.load_markets()
    price = round((await client.fetch_ticker(SYMBOL))["last"] * 0.9, 4)
    created = await client.create_order(
        SYMBOL, "limit", "buy", 10, price, params={"newClientOrderId": "bot1-000042"}
    )
    found = await client.fetch_order(None, SYMBOL, params={"clientOrderId": "bot1-000042"})
    assert found["id"] == created["id"]
    await client.cancel_order(None, SYMBOL, params={"clientOrderId": "bot1-000042"})
    assert (await client.fetch_order(created["id"], SYMBOL))["status"] == "canceled"


@pytest.mark.parametrize(
    ("amount", "price_factor", "error", "code"),
    [
        (1, 1.0, ccxt.InvalidOrder, "-4164"),  # notional 1 XRP * ~1.2 < 5
        (10.05, 1.0, ccxt.BadRequest, "-1111"),  # step 0.1
        (10, 1.00001, ccxt.BadRequest, "-1111"),  # more decimals than pricePrecision
        (250_000, 1.0, ccxt.InsufficientFunds, "-2019"),  # ~300k notional / 20x > 10k
    ],
)
async def test_filter_and_margin_violations_answer_binance_codes(
    client, server, amount, price_factor, error, code
) -> None:
    await client.load_markets()
    last = (await client.fetch_ticker(SYMBOL))["last"]
    # raw request: ccxt would otherwise round amount and price to precision first
    price = f"{round(last * 0.99, 4)}"
    if price_factor != 1.0:
        price = f"{last * 0.99 * price_factor:.8f}".rstrip("0")
    params = {"symbol": "XRPUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
              "quantity": str(amount), "price": price}  # fmt: skip
    with pytest.raises(error, match=code):
        await client.fapiPrivatePostOrder(params)


async def test_duplicate_open_client_order_id_is_refused(client, server) -> None:
    await client.load_markets()
    price = round((await client.fetch_ticker(SYMBOL))["last"] * 0.9, 4)
    params = {"newClientOrderId": "dup-1"}
    await client.create_order(SYMBOL, "limit", "buy", 10, price, params=params)
    with pytest.raises(ccxt.InvalidOrder, match="-4116"):
        await client.create_order(SYMBOL, "limit", "buy", 10, price, params=params)


async def test_leverage_margin_mode_and_position_mode(client, server) -> None:
    await client.load_markets()
    await client.set_leverage(5, SYMBOL)
    await client.set_margin_mode("isolated", SYMBOL)
    with pytest.raises(ccxt.MarginModeAlreadySet):
        await client.set_margin_mode("isolated", SYMBOL)
    await client.set_position_mode(True)
    assert (await client.fetch_position_mode(SYMBOL))["hedged"] is True
    await client.create_order(SYMBOL, "market", "buy", 10, params={"positionSide": "LONG"})
    server.step()
    positions = await client.fetch_positions([SYMBOL], params={"useV2": True})
    long = next(p for p in positions if p["info"]["positionSide"] == "LONG")
    assert long["contracts"] == pytest.approx(10)
    assert long["leverage"] == pytest.approx(5)
    # hedge mode takes no reduceOnly, as Binance: the SELL on the LONG leg is what closes it
    with pytest.raises(ccxt.BadRequest, match="-1106"):
        await client.create_order(SYMBOL, "market", "sell", 10,
                                  params={"positionSide": "LONG", "reduceOnly": True})  # fmt: skip
    await client.create_order(SYMBOL, "market", "sell", 10, params={"positionSide": "LONG"})
    server.step()
    positions = await client.fetch_positions([SYMBOL], params={"useV2": True})
    assert all(not p["contracts"] for p in positions if p["info"]["positionSide"] == "LONG")
    assert server.stats()["unhandled_count"] == 0
