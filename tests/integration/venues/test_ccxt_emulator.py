"""CcxtVenue end to end through unmodified ccxt against the Binance emulator (EX1, OR2, OR5)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from aegis.config import ExchangeSettings
from aegis.model import (
    Order,
    OrderEventKind,
    OrderRejected,
    OrderSide,
    OrderStatus,
    OrderType,
    RateLimited,
)
from aegis.venues.base import Venue
from aegis.venues.ccxt import CcxtVenue, RateLimitGate, RetryPolicy
from aegis.venues.emulator import AccountSpec, EmulatorConfig, EmulatorServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

KEY, SECRET = "key-ccxt", "secret-ccxt"
XRP = "XRP/USDT:USDT"


def _settings() -> ExchangeSettings:
    return ExchangeSettings(
        name="binanceusdm", api_key=SecretStr(KEY), api_secret=SecretStr(SECRET)
    )


@pytest.fixture
async def server(bundled_data_dir: Path) -> AsyncIterator[EmulatorServer]:
    config = EmulatorConfig(
        data_files=(bundled_data_dir / "binance-usdm_XRP-USDT-PERP_5m.csv.gz",),
        accounts=(AccountSpec(KEY, SECRET, balance=Decimal(10000)),),
        history_candles=20,
    )
    emulator = EmulatorServer(config)
    await emulator.start()
    yield emulator
    await emulator.stop()


async def _venue(server: EmulatorServer, name: str = "binanceusdm", **kwargs: object) -> CcxtVenue:
    venue = CcxtVenue(name, _settings(), base_url=server.base_url, **kwargs)  # type: ignore[arg-type]
    await venue.connect()
    return venue


@pytest.fixture
async def venue(server: EmulatorServer) -> AsyncIterator[CcxtVenue]:
    venue = await _venue(server, policy=RetryPolicy(base_delay_s=0.01, seed=1))
    yield venue
    await venue.close()


def _order(cid: str, order_type: OrderType, quantity: str, price: str | None = None, *,
           symbol: str = XRP, side: OrderSide = OrderSide.BUY,
           stop_price: str | None = None) -> Order:  # fmt: skip
    return Order(
        client_order_id=cid,
        bot_id="bot1",
        symbol=symbol,
        side=side,
        type=order_type,
        quantity=Decimal(quantity),
        price=None if price is None else Decimal(price),
        stop_price=None if stop_price is None else Decimal(stop_price),
        status=OrderStatus.SUBMITTED,
    )


async def test_venue_satisfies_the_protocol_and_loads_real_filters(venue: CcxtVenue) -> None:
    assert isinstance(venue, Venue)
    xrp = venue.instruments()[XRP]
    assert xrp.tick_size == Decimal("0.0001")
    assert xrp.min_notional == Decimal(5)


async def test_market_order_is_accepted_then_filled_and_fills_carry_the_client_id(
    venue: CcxtVenue, server: EmulatorServer
) -> None:
    update = await venue.submit(_order("it-mkt-1", OrderType.MARKET, "20"))
    assert update.kind is OrderEventKind.ACCEPT
    assert update.venue_order_id is not None
    server.step()
    fetched = await venue.fetch_order(XRP, "it-mkt-1")
    assert fetched is not None
    assert fetched.status is OrderStatus.FILLED
    assert fetched.filled_quantity == Decimal(20)
    fills = await venue.fetch_fills(XRP)
    assert [(f.client_order_id, f.quantity) for f in fills] == [("it-mkt-1", Decimal(20))]
    positions = await venue.fetch_positions()
    assert [(p.symbol, p.quantity) for p in positions] == [(XRP, Decimal(20))]
    assert server.stats()["unhandled_count"] == 0


async def test_limit_order_rests_is_listed_open_and_cancels(venue: CcxtVenue) -> None:
    last = await venue.last_price(XRP)
    assert last is not None
    price = venue.instruments()[XRP].round_price(last * Decimal("0.97"), OrderSide.BUY)
    order = _order("it-lim-1", OrderType.LIMIT, "10", str(price))
    accepted = await venue.submit(order)
    assert accepted.kind is OrderEventKind.ACCEPT
    open_orders = await venue.fetch_open_orders(XRP)
    assert [(o.client_order_id, o.price) for o in open_orders] == [("it-lim-1", price)]
    cancelled = await venue.cancel(order)
    assert cancelled.kind is OrderEventKind.CANCEL
    fetched = await venue.fetch_order(XRP, "it-lim-1")
    assert fetched is not None
    assert fetched.status is OrderStatus.CANCELLED
    assert await venue.fetch_order(XRP, "never-sent") is None


async def test_stop_market_goes_through_the_algo_order_path(
    venue: CcxtVenue, server: EmulatorServer
) -> None:
    last = await venue.last_price(XRP)
    assert last is not None
    stop = str((last * Decimal("0.9")).quantize(Decimal("0.0001")))
    order = _order("it-stop-1", OrderType.STOP_MARKET, "10", side=OrderSide.SELL, stop_price=stop)
    update = await venue.submit(order)
    assert update.kind is OrderEventKind.ACCEPT
    assert any("algoOrder" in route for route in server.stats()["requests"])
    found = await venue.fetch_order(XRP, "it-stop-1")
    assert found is not None
    assert found.is_conditional
    assert any(o.client_order_id == "it-stop-1" for o in await venue.fetch_open_orders(XRP))
    assert (await venue.cancel(order)).kind is OrderEventKind.CANCEL


async def test_order_below_min_notional_is_rejected_before_the_wire(
    venue: CcxtVenue, server: EmulatorServer
) -> None:
    before = dict(server.stats()["requests"])
    with pytest.raises(OrderRejected, match="min_notional"):
        await venue.submit(_order("it-small-1", OrderType.LIMIT, "1", "0.5"))
    placed = {k: v for k, v in server.stats()["requests"].items() if "order" in k.lower()}
    assert placed == {k: v for k, v in before.items() if "order" in k.lower()}


async def test_lost_acknowledgement_retry_adopts_the_order_and_never_sends_a_second(
    venue: CcxtVenue, server: EmulatorServer
) -> None:
    server.set_fault("lost_ack", "1")
    update = await venue.submit(_order("it-lost-1", OrderType.MARKET, "20"))
    assert update.kind is OrderEventKind.ACCEPT
    orders = await venue.fetch_orders(XRP)
    assert [o.client_order_id for o in orders].count("it-lost-1") == 1


async def test_duplicate_client_id_resolves_by_lookup(venue: CcxtVenue) -> None:
    last = await venue.last_price(XRP)
    assert last is not None
    price = str(venue.instruments()[XRP].round_price(last * Decimal("0.95"), OrderSide.BUY))
    first = await venue.submit(_order("it-dup-1", OrderType.LIMIT, "10", price))
    again = await venue.submit(_order("it-dup-1", OrderType.LIMIT, "10", price))
    assert again.venue_order_id == first.venue_order_id
    orders = await venue.fetch_orders(XRP)
    assert [o.client_order_id for o in orders].count("it-dup-1") == 1


async def test_a_429_backs_off_every_caller_of_the_venue(server: EmulatorServer) -> None:
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        # the first pause clears the fault: every later request must succeed
        sleeps.append(seconds)
        server.set_fault("http_429", "0")
        await asyncio.sleep(0)

    gate = RateLimitGate(sleep=fake_sleep)
    venue = await _venue(server, gate=gate, policy=RetryPolicy(seed=1), sleep=fake_sleep)
    try:
        server.set_fault("retry_after_s", "7")
        server.set_fault("http_429", "1")
        results = await asyncio.gather(venue.fetch_balances(), venue.fetch_open_orders(XRP))
    finally:
        await venue.close()
    assert results[0]["USDT"] == Decimal(10000)
    assert gate.blocks >= 1
    assert sleeps
    assert max(sleeps) == pytest.approx(7, abs=0.5)


async def test_persistent_429_raises_rate_limited_with_retry_after(
    server: EmulatorServer,
) -> None:
    async def no_sleep(seconds: float) -> None:
        await asyncio.sleep(0)

    gate = RateLimitGate(sleep=no_sleep)
    venue = await _venue(server, gate=gate, policy=RetryPolicy(max_attempts=2), sleep=no_sleep)
    try:
        server.set_fault("retry_after_s", "3")
        server.set_fault("http_429", "1")
        with pytest.raises(RateLimited) as caught:
            await venue.fetch_balances()
    finally:
        server.set_fault("http_429", "0")
        await venue.close()
    assert caught.value.retry_after_s == pytest.approx(3)


async def test_spot_venue_trades_btc_usdt_end_to_end(server: EmulatorServer) -> None:
    venue = await _venue(server, name="binance")
    try:
        assert "ETH/BTC" in venue.instruments()
        last = await venue.last_price("BTC/USDT")
        assert last is not None
        inst = venue.instruments()["BTC/USDT"]
        price = inst.round_price(last * Decimal("1.0"), OrderSide.BUY)
        quantity = inst.round_quantity(Decimal(50) / price) + inst.step_size * 10
        order = _order("it-spot-1", OrderType.LIMIT, str(quantity), str(price), symbol="BTC/USDT")
        update = await venue.submit(order)
        assert update.kind is OrderEventKind.ACCEPT
        found = await venue.fetch_order("BTC/USDT", "it-spot-1")
        assert found is not None
        assert found.quantity == quantity
    finally:
        await venue.close()
