"""Pagination over more than 1,000 orders and fills; isolation between accounts."""

from __future__ import annotations

import ccxt
import pytest
from tests.emulator_accounts import place_filled_market_orders

from aegis.venues.emulator.server import EmulatorServer

from .conftest import KEY, SYMBOL

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
ORDERS = 1_100


async def test_all_orders_and_user_trades_paginate_over_more_than_1000(
    client, server: EmulatorServer
) -> None:
    place_filled_market_orders(server, KEY, ORDERS, "bulk")
    await client.load_markets()
    newest = await client.fetch_orders(SYMBOL)
    assert len(newest) == 500  # Binance's default page: the most recent orders
    seen: list[str] = []
    next_id = 0
    while True:
        page = await client.fetch_orders(SYMBOL, params={"orderId": next_id, "limit": 1000})
        seen += [o["id"] for o in page]
        if len(page) < 1000:
            break
        next_id = max(int(o["id"]) for o in page) + 1  # ccxt re-sorts a page
    assert len(seen) == ORDERS == len(set(seen))
    assert {o["status"] for o in newest} == {"closed"}
    trade_ids: list[str] = []
    from_id = 0
    while True:
        trades = await client.fetch_my_trades(SYMBOL, params={"fromId": from_id, "limit": 1000})
        trade_ids += [t["id"] for t in trades]
        if len(trades) < 1000:
            break
        from_id = max(int(t["id"]) for t in trades) + 1
    assert len(trade_ids) == ORDERS == len(set(trade_ids))
    first = await client.fetch_orders(SYMBOL, params={"orderId": 0, "limit": 3})
    assert [o["clientOrderId"] for o in first] == ["bulk-0", "bulk-1", "bulk-2"]


async def test_accounts_are_isolated(client, other_client, server: EmulatorServer) -> None:
    await client.load_markets()
    await other_client.load_markets()
    order = await client.create_order(
        SYMBOL, "market", "buy", 50, params={"newClientOrderId": "alice-1"}
    )
    server.step()
    assert (await other_client.fetch_balance())["USDT"]["total"] == pytest.approx(500)
    assert await other_client.fetch_positions() == []
    assert await other_client.fetch_orders(SYMBOL) == []
    assert await other_client.fetch_my_trades(SYMBOL) == []
    with pytest.raises(ccxt.OrderNotFound):
        await other_client.fetch_order(order["id"], SYMBOL)
    with pytest.raises(ccxt.OrderNotFound):
        await other_client.fetch_order(None, SYMBOL, params={"clientOrderId": "alice-1"})
    # the same client id is free on another account
    await other_client.create_order(
        SYMBOL, "market", "buy", 10, params={"newClientOrderId": "alice-1"}
    )
    assert (await client.fetch_positions())[0]["contracts"] == pytest.approx(50)
    assert server.stats()["unhandled_count"] == 0
