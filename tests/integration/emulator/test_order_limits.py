"""The emulator applies Binance's price band and open-order caps, through unmodified ccxt."""

from __future__ import annotations

from decimal import Decimal

import ccxt
import pytest

from aegis.venues.emulator.engine import OrderRequest
from aegis.venues.emulator.errors import BinanceError
from aegis.venues.emulator.server import EmulatorServer

from .conftest import KEY, SYMBOL

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def _mark(server: EmulatorServer) -> Decimal:
    return server.exchange.accounts[KEY].venues["usdm"].mark("XRPUSDT")


async def test_usdm_band_caps_a_buy_and_floors_a_sell_around_the_mark(
    client, server: EmulatorServer
) -> None:
    await client.load_markets()
    mark = await _mark(server)
    cap = mark * Decimal("1.05")  # XRPUSDT PERCENT_PRICE 1.05 / 0.95
    above = (cap + Decimal("0.0001")).quantize(Decimal("0.0001"))
    with pytest.raises(ccxt.BadRequest, match=r"-4016.*Limit price can't be higher than"):
        await client.create_order(SYMBOL, "limit", "buy", 20, float(above))
    below = (mark * Decimal("0.95") - Decimal("0.0001")).quantize(Decimal("0.0001"))
    with pytest.raises(ccxt.BadRequest, match=r"-4024.*Limit price can't be lower than"):
        await client.create_order(SYMBOL, "limit", "sell", 20, float(below))
    # one end per side: a passive order far from the mark rests
    passive = (mark * Decimal("0.7")).quantize(Decimal("0.0001"))
    resting = await client.create_order(SYMBOL, "limit", "buy", 20, float(passive))
    assert resting["status"] == "open"
    inside = cap.quantize(Decimal("0.0001"), rounding="ROUND_FLOOR")
    taker = await client.create_order(SYMBOL, "limit", "buy", 20, float(inside))
    assert taker["status"] == "open"
    assert server.stats()["unhandled_count"] == 0


def _resting(n: int, price: Decimal) -> OrderRequest:
    return OrderRequest("XRPUSDT", "BUY", "LIMIT", Decimal(10), price, None, "GTC", False,
                        "BOTH", f"rest-{n}")  # fmt: skip


async def test_usdm_refuses_the_order_past_max_num_orders(client, server: EmulatorServer) -> None:
    await client.load_markets()
    venue = server.exchange.accounts[KEY].venues["usdm"]
    price = (await _mark(server) * Decimal("0.8")).quantize(Decimal("0.0001"))
    for n in range(200):  # XRPUSDT MAX_NUM_ORDERS 200
        venue.place(_resting(n, price), is_algo=False)
    with pytest.raises(ccxt.OperationRejected, match=r"-2025.*Reach max open order limit"):
        await client.create_order(SYMBOL, "limit", "buy", 10, float(price))
    await client.cancel_order((await client.fetch_open_orders(SYMBOL))[0]["id"], SYMBOL)
    placed = await client.create_order(SYMBOL, "limit", "buy", 10, float(price))
    assert placed["status"] == "open"


async def test_usdm_refuses_the_conditional_order_past_max_num_algo_orders(
    server: EmulatorServer,
) -> None:
    venue = server.exchange.accounts[KEY].venues["usdm"]
    stop = (await _mark(server) * Decimal("0.8")).quantize(Decimal("0.0001"))

    def stop_request(n: int) -> OrderRequest:
        return OrderRequest("XRPUSDT", "SELL", "STOP_MARKET", Decimal(10), None, stop, "GTC",
                            False, "BOTH", f"stop-{n}")  # fmt: skip

    for n in range(10):  # XRPUSDT MAX_NUM_ALGO_ORDERS 10
        venue.place(stop_request(n), is_algo=True)
    with pytest.raises(BinanceError) as refused:
        venue.place(stop_request(10), is_algo=True)
    assert (refused.value.code, refused.value.msg) == (-4045, "Reach max stop order limit.")
    # the algo orders do not count against MAX_NUM_ORDERS
    venue.place(_resting(0, stop), is_algo=False)


async def test_spot_band_bounds_each_side_at_both_ends(spot_client) -> None:
    await spot_client.load_markets()
    last = (await spot_client.fetch_ticker("BTC/USDT"))["last"]
    # PERCENT_PRICE_BY_SIDE 0.2 / 5: a passive buy far below is refused on spot
    with pytest.raises(ccxt.InvalidOrder, match="Filter failure: PERCENT_PRICE_BY_SIDE"):
        await spot_client.create_order("BTC/USDT", "limit", "buy", 0.01, round(last * 0.19, 2))
    order = await spot_client.create_order("BTC/USDT", "limit", "buy", 0.01, round(last * 0.21, 2))
    assert order["status"] == "open"
