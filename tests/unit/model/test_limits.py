"""The price band and the open-order caps: parsed from real Binance filters, checked (PR2)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aegis.model import (
    ConfigError,
    Instrument,
    OpenOrderLimits,
    OrderRejected,
    OrderSide,
    OrderType,
    PriceBand,
    RejectReason,
)

BUY, SELL = OrderSide.BUY, OrderSide.SELL
LIMIT = OrderType.LIMIT


def _entries(real_markets_dir: Path, name: str) -> dict[str, dict[str, Any]]:
    document = json.loads((real_markets_dir / name).read_text())
    return {entry["symbol"]: entry for entry in document["symbols"]}


@pytest.fixture
def usdm(real_markets_dir: Path) -> dict[str, dict[str, Any]]:
    return _entries(real_markets_dir, "binance-usdm.json")


@pytest.fixture
def spot(real_markets_dir: Path) -> dict[str, dict[str, Any]]:
    return _entries(real_markets_dir, "binance-spot.json")


def test_usdm_percent_price_bounds_a_buy_from_above_and_a_sell_from_below(usdm) -> None:
    btc = Instrument.from_binance(usdm["BTCUSDT"])
    assert btc.price_band == PriceBand(
        buy_up=Decimal("1.05"), sell_down=Decimal("0.95"), reference="mark price"
    )
    doge = Instrument.from_binance(usdm["DOGEUSDT"])
    assert doge.price_band is not None
    assert doge.price_band.multipliers(BUY) == (None, Decimal("1.1"))
    assert doge.price_band.multipliers(SELL) == (Decimal("0.9"), None)


def test_scaled_integer_multipliers_are_read_with_their_multiplier_decimal(usdm) -> None:
    # BTCSTUSDT (PENDING_TRADING) sends "11500" / "8500" with multiplierDecimal 4
    band = Instrument.from_binance(usdm["BTCSTUSDT"]).price_band
    assert band is not None
    assert (band.buy_up, band.sell_down) == (Decimal("1.15"), Decimal("0.85"))


def test_spot_percent_price_by_side_bounds_both_ends_of_each_side(spot) -> None:
    band = Instrument.from_binance(spot["BTCUSDT"]).price_band
    assert band == PriceBand(
        buy_down=Decimal("0.2"), buy_up=Decimal("5"), sell_down=Decimal("0.2"),
        sell_up=Decimal("5"), reference="5-minute average price",
    )  # fmt: skip


def test_open_order_caps_are_read_from_both_venues(usdm, spot) -> None:
    assert Instrument.from_binance(usdm["BTCUSDT"]).open_order_limits == OpenOrderLimits(
        max_orders=200, max_conditional=10, conditional_in_max_orders=False
    )
    assert Instrument.from_binance(spot["BTCUSDT"]).open_order_limits == OpenOrderLimits(
        max_orders=200, max_conditional=5, conditional_in_max_orders=True
    )


def test_every_bundled_market_parses_its_band_and_caps(usdm, spot) -> None:
    for entries in (usdm, spot):
        for entry in entries.values():
            instrument = Instrument.from_binance(entry)
            assert instrument.price_band is not None, entry["symbol"]
            assert instrument.open_order_limits is not None, entry["symbol"]


def test_a_malformed_multiplier_names_the_symbol_and_the_field(usdm) -> None:
    entry = json.loads(json.dumps(usdm["BTCUSDT"]))
    for item in entry["filters"]:
        if item["filterType"] == "PERCENT_PRICE":
            item["multiplierUp"] = "lots"
    with pytest.raises(ConfigError, match=r"PERCENT_PRICE\.multiplierUp 'lots'.*BTCUSDT"):
        Instrument.from_binance(entry)


def test_a_band_with_its_ends_crossed_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"buy_down 2 above buy_up 1\.5"):
        PriceBand(buy_down=Decimal(2), buy_up=Decimal("1.5"))
    with pytest.raises(ConfigError, match="sell_up"):
        PriceBand(sell_up=Decimal(-1))


def test_usdm_limit_price_outside_the_band_is_rejected_with_the_bound(usdm) -> None:
    btc = Instrument.from_binance(usdm["BTCUSDT"])
    mark = Decimal(60000)
    with pytest.raises(OrderRejected) as above:
        btc.check(LIMIT, BUY, Decimal("0.01"), Decimal("63000.1"), reference_price=mark)
    assert above.value.reason is RejectReason.PRICE_ABOVE_BAND
    assert "63000.1 above the price band's maximum for a buy" in str(above.value)
    assert "1.05 x the 60000 mark price): 63000" in str(above.value)
    with pytest.raises(OrderRejected) as below:
        btc.check(LIMIT, SELL, Decimal("0.01"), Decimal("56999.9"), reference_price=mark)
    assert below.value.reason is RejectReason.PRICE_BELOW_BAND
    # on the bound itself, and a passive order far away (USD-M bands one end per side)
    btc.check(LIMIT, BUY, Decimal("0.01"), Decimal(63000), reference_price=mark)
    btc.check(LIMIT, SELL, Decimal("0.01"), Decimal(57000), reference_price=mark)
    btc.check(LIMIT, BUY, Decimal("0.01"), Decimal(30000), reference_price=mark)
    btc.check(LIMIT, SELL, Decimal("0.01"), Decimal(90000), reference_price=mark)


def test_spot_band_refuses_a_passive_order_far_from_the_average(spot) -> None:
    btc = Instrument.from_binance(spot["BTCUSDT"])
    reference = Decimal(30000)
    assert btc.validate(LIMIT, BUY, Decimal("0.01"), Decimal("5999.99"),
                        reference_price=reference) is RejectReason.PRICE_BELOW_BAND  # fmt: skip
    assert btc.validate(LIMIT, SELL, Decimal("0.001"), Decimal("150000.01"),
                        reference_price=reference) is RejectReason.PRICE_ABOVE_BAND  # fmt: skip


def test_the_band_needs_a_reference_and_spares_market_and_conditional_orders(usdm) -> None:
    btc = Instrument.from_binance(usdm["BTCUSDT"])
    # no reference price: nothing to band against (the venue's own check remains)
    assert btc.validate(LIMIT, BUY, Decimal("0.01"), Decimal(90000)) is None
    # a conditional order's price is checked by the venue when it triggers
    found = btc.validate(
        OrderType.STOP_LIMIT, BUY, Decimal("0.01"), Decimal(90000),
        stop_price=Decimal(89000), reference_price=Decimal(60000),
    )  # fmt: skip
    assert found is None
    assert btc.validate(OrderType.MARKET, BUY, Decimal("0.01"),
                        reference_price=Decimal(60000)) is None  # fmt: skip


def test_normalise_memo_keeps_the_reference_and_the_side_apart(usdm) -> None:
    btc = Instrument.from_binance(usdm["BTCUSDT"])
    price = Decimal(62000)
    btc.normalise(LIMIT, BUY, Decimal("0.01"), price, reference_price=Decimal(60000))
    with pytest.raises(OrderRejected):  # same order, lower reference: now above the band
        btc.normalise(LIMIT, BUY, Decimal("0.01"), price, reference_price=Decimal(58000))
    btc.check(LIMIT, SELL, Decimal("0.01"), Decimal(62000), reference_price=Decimal(64000))
    with pytest.raises(OrderRejected):  # a sell at 62000 is below 0.95 x 66000
        btc.check(LIMIT, SELL, Decimal("0.01"), Decimal(62000), reference_price=Decimal(66000))


@given(
    reference=st.decimals(min_value="0.01", max_value="100000", places=2),
    factor=st.decimals(min_value="0.5", max_value="1.5", places=4),
    side=st.sampled_from([BUY, SELL]),
)
def test_property_a_price_passes_exactly_when_it_lies_within_the_side_bounds(
    reference: Decimal, factor: Decimal, side: OrderSide
) -> None:
    band = PriceBand(buy_up=Decimal("1.05"), sell_down=Decimal("0.95"))
    instrument = Instrument(
        symbol="X/USDT:USDT", base="X", quote="USDT", tick_size=Decimal("0.0001"),
        step_size=Decimal(1), price_band=band,
    )  # fmt: skip
    price = instrument.round_price(reference * factor, side)
    if price <= 0:
        return
    low, high = band.bounds(side, reference)
    inside = (low is None or price >= low) and (high is None or price <= high)
    found = instrument.validate(LIMIT, side, Decimal(1), price, reference_price=reference)
    assert (found is None) is inside


def test_open_order_caps_count_conditional_orders_as_the_venue_does() -> None:
    futures = OpenOrderLimits(max_orders=3, max_conditional=2)
    assert futures.refusal("S", OrderType.LIMIT, 2, 5) is None
    reason, message = futures.refusal("S", OrderType.LIMIT, 3, 0) or (None, "")
    assert reason is RejectReason.TOO_MANY_OPEN_ORDERS
    assert message == "3 orders already open on S: the venue allows 3 (MAX_NUM_ORDERS)"
    # a conditional order counts against its own cap only on USD-M
    assert futures.refusal("S", OrderType.STOP_MARKET, 3, 1) is None
    found = futures.refusal("S", OrderType.TAKE_PROFIT, 0, 2)
    assert found is not None
    assert found[0] is RejectReason.TOO_MANY_OPEN_CONDITIONAL_ORDERS
    spot = OpenOrderLimits(max_orders=3, max_conditional=2, conditional_in_max_orders=True)
    found = spot.refusal("S", OrderType.LIMIT, 2, 1)
    assert found is not None
    assert found[0] is RejectReason.TOO_MANY_OPEN_ORDERS
    found = spot.refusal("S", OrderType.STOP_MARKET, 2, 1)
    assert found is not None
    assert found[0] is RejectReason.TOO_MANY_OPEN_ORDERS
    assert spot.lowest == 2
    with pytest.raises(ConfigError, match="max_orders 0"):
        OpenOrderLimits(max_orders=0)
