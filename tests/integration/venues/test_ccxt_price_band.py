"""CcxtVenue keeps a limit price inside the venue's price band before the wire (PR2)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.integration.conftest import ConnectVenue

from aegis.model import (
    Order,
    OrderEventKind,
    OrderRejected,
    OrderSide,
    OrderStatus,
    OrderType,
    RejectReason,
)
from aegis.venues.ccxt import CcxtVenue, RetryPolicy
from aegis.venues.emulator import EmulatorServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

XRP = "XRP/USDT:USDT"
ORDER_ROUTES = ("POST /fapi/v1/order", "POST /fapi/v1/algoOrder")


@pytest.fixture
async def venue(xrp_emulator: EmulatorServer, connect_venue: ConnectVenue) -> CcxtVenue:
    return await connect_venue(xrp_emulator, RetryPolicy())


def _limit(cid: str, side: OrderSide, price: Decimal) -> Order:
    return Order(
        client_order_id=cid, bot_id="bot1", symbol=XRP, side=side, type=OrderType.LIMIT,
        quantity=Decimal(20), price=price, status=OrderStatus.SUBMITTED,
    )  # fmt: skip


def _orders_sent(server: EmulatorServer) -> int:
    requests = server.stats()["requests"]
    return sum(requests.get(route, 0) for route in ORDER_ROUTES)


async def test_a_limit_outside_the_band_is_refused_before_the_wire(
    venue: CcxtVenue, xrp_emulator: EmulatorServer
) -> None:
    last = await venue.last_price(XRP)
    assert last is not None
    instrument = venue.instrument(XRP)
    assert instrument.price_band is not None  # the exchange's PERCENT_PRICE, 1.05 / 0.95
    above = instrument.round_price(last * Decimal("1.06"), OrderSide.BUY)
    with pytest.raises(OrderRejected) as refused:
        await venue.submit(_limit("band-1", OrderSide.BUY, above))
    assert refused.value.reason is RejectReason.PRICE_ABOVE_BAND
    assert f"price {above} above the price band's maximum for a buy" in str(refused.value)
    below = instrument.round_price(last * Decimal("0.94"), OrderSide.SELL)
    with pytest.raises(OrderRejected) as refused:
        await venue.submit(_limit("band-2", OrderSide.SELL, below))
    assert refused.value.reason is RejectReason.PRICE_BELOW_BAND
    # close to the edge the adapter keeps a margin for the mark standing off the last price
    edge = instrument.round_price(last * Decimal("1.048"), OrderSide.BUY)
    with pytest.raises(OrderRejected):
        await venue.submit(_limit("band-3", OrderSide.BUY, edge))
    assert _orders_sent(xrp_emulator) == 0


async def test_a_limit_inside_the_band_reaches_the_venue(
    venue: CcxtVenue, xrp_emulator: EmulatorServer
) -> None:
    last = await venue.last_price(XRP)
    assert last is not None
    instrument = venue.instrument(XRP)
    inside = instrument.round_price(last * Decimal("1.04"), OrderSide.BUY)
    update = await venue.submit(_limit("band-4", OrderSide.BUY, inside))
    assert update.kind is OrderEventKind.ACCEPT
    passive = instrument.round_price(last * Decimal("0.5"), OrderSide.BUY)
    update = await venue.submit(_limit("band-5", OrderSide.BUY, passive))
    assert update.kind is OrderEventKind.ACCEPT
    assert _orders_sent(xrp_emulator) == 2
