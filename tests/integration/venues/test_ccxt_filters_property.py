"""PR2 property: nothing CcxtVenue sends is rejected by the emulator for precision, notional
or the price band (prices range over 0.8-1.2 x the last price, beyond the 0.95-1.05 band)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from aegis.config import ExchangeSettings
from aegis.model import Order, OrderEventKind, OrderRejected, OrderSide, OrderStatus, OrderType
from aegis.venues.ccxt import CcxtVenue
from aegis.venues.emulator import AccountSpec, EmulatorConfig, EmulatorServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

KEY, SECRET = "key-prop", "secret-prop"
# (venue, symbol): real filters of very different grids and price levels
CASES = [
    ("binanceusdm", "BTC/USDT:USDT"),
    ("binanceusdm", "1000PEPE/USDT:USDT"),
    ("binanceusdm", "YFI/USDT:USDT"),
    ("binanceusdm", "XRP/USDT:USDT"),
    ("binance", "ETH/BTC"),
]
# venue answers that are about money, not about precision or notional
ACCEPTABLE_REFUSALS = ("insufficient", "margin is insufficient", "balance")


class Harness:
    """One emulator and one venue per exchange, on a private event loop for hypothesis."""

    def __init__(self, data_file: Path) -> None:
        self.loop = asyncio.new_event_loop()
        config = EmulatorConfig(
            data_files=(data_file,),
            accounts=(AccountSpec(KEY, SECRET, balance=Decimal(1_000_000)),),
            history_candles=20,
        )
        self.server = EmulatorServer(config)
        base_url = self.run(self.server.start())
        settings_ = ExchangeSettings(api_key=SecretStr(KEY), api_secret=SecretStr(SECRET))
        self.venues = {
            name: CcxtVenue(name, settings_, base_url=base_url)
            for name in ("binanceusdm", "binance")
        }
        for venue in self.venues.values():
            self.run(venue.connect())
        self.last = {
            symbol: self.run(self.venues[name].last_price(symbol)) for name, symbol in CASES
        }
        self.sequence = 0

    def run(self, coroutine):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(asyncio.wait_for(coroutine, 20))

    def close(self) -> None:
        for venue in self.venues.values():
            self.run(venue.close())
        self.run(self.server.stop())
        self.loop.close()


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    from tests.conftest import BUNDLED_DATA

    built = Harness(BUNDLED_DATA / "binance-usdm_XRP-USDT-PERP_5m.csv.gz")
    yield built
    built.close()


@settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    case=st.sampled_from(CASES),
    price_factor=st.decimals(min_value="0.80", max_value="1.20", places=6),
    notional=st.decimals(min_value="0.5", max_value="5000", places=4),
    side=st.sampled_from([OrderSide.BUY, OrderSide.SELL]),
    is_market=st.booleans(),
)
def test_every_order_is_rejected_locally_or_accepted_by_the_venue(
    harness: Harness,
    case: tuple[str, str],
    price_factor: Decimal,
    notional: Decimal,
    side: OrderSide,
    is_market: bool,
) -> None:
    name, symbol = case
    venue = harness.venues[name]
    last = harness.last[symbol]
    assert last is not None
    raw_price = last * price_factor
    harness.sequence += 1
    order = Order(
        client_order_id=f"prop-{harness.sequence}",
        bot_id="bot1",
        symbol=symbol,
        side=side,
        type=OrderType.MARKET if is_market else OrderType.LIMIT,
        # raw, unrounded inputs: the venue must normalise them itself
        quantity=notional / raw_price,
        price=None if is_market else raw_price,
        status=OrderStatus.SUBMITTED,
    )
    try:
        update = harness.run(venue.submit(order))
    except OrderRejected:
        return  # refused locally: nothing reached the wire
    if update.kind is OrderEventKind.REJECT:
        reason = (update.reason or "").lower()
        assert any(word in reason for word in ACCEPTABLE_REFUSALS), update.reason
    else:
        assert update.kind is OrderEventKind.ACCEPT
