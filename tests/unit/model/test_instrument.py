"""Instrument rounding and validation (PR2), including real Binance filters."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aegis.model import (
    ConfigError,
    Instrument,
    MarketKind,
    OrderRejected,
    OrderSide,
    OrderType,
    RejectReason,
)

BTC_PERP = Instrument(
    symbol="BTC/USDT:USDT",
    base="BTC",
    quote="USDT",
    kind=MarketKind.LINEAR_PERPETUAL,
    tick_size=Decimal("0.1"),
    step_size=Decimal("0.001"),
    min_qty=Decimal("0.001"),
    max_qty=Decimal("1000"),
    market_min_qty=Decimal("0.001"),
    market_max_qty=Decimal("120"),
    min_notional=Decimal("100"),
    min_price=Decimal("556.8"),
    max_price=Decimal("4529764"),
)

ticks = st.sampled_from([Decimal(t) for t in ("0.1", "0.01", "0.0001", "1", "5", "0.00000010")])
steps = st.sampled_from([Decimal(s) for s in ("0.001", "1", "0.1", "10", "0.00001")])
prices = st.decimals(min_value="0.0000001", max_value="1000000", allow_nan=False, places=9)
quantities = st.decimals(min_value="0.00001", max_value="100000", allow_nan=False, places=8)
sides = st.sampled_from(list(OrderSide))


def _load(path: Path) -> dict[str, dict[str, Any]]:
    return {entry["symbol"]: entry for entry in json.loads(path.read_text())["symbols"]}


def test_quantity_below_min_names_symbol_field_value_and_filter() -> None:
    with pytest.raises(OrderRejected, match=r"quantity 0.0004 .*min_qty 0.001 for BTC/USDT:USDT"):
        BTC_PERP.check(OrderType.LIMIT, OrderSide.BUY, Decimal("0.0004"), Decimal("60000"))


def test_rejection_carries_reason() -> None:
    with pytest.raises(OrderRejected) as caught:
        BTC_PERP.check(OrderType.LIMIT, OrderSide.BUY, Decimal("0.001"), Decimal("60000"))
    assert caught.value.reason is RejectReason.NOTIONAL_BELOW_MIN
    assert "notional 60.000 below min_notional 100 for BTC/USDT:USDT" in str(caught.value)


@pytest.mark.parametrize(
    ("order_type", "quantity", "price", "kwargs", "reason"),
    [
        (OrderType.LIMIT, "0.01", None, {}, RejectReason.MISSING_PRICE),
        (OrderType.MARKET, "0.01", "60000", {}, RejectReason.PRICE_NOT_ALLOWED),
        (OrderType.STOP_MARKET, "0.01", None, {}, RejectReason.MISSING_STOP_PRICE),
        (OrderType.LIMIT, "0", "60000", {}, RejectReason.NOT_POSITIVE),
        (OrderType.LIMIT, "0.01", "60000.05", {}, RejectReason.PRICE_TICK),
        (OrderType.LIMIT, "0.01", "500", {}, RejectReason.PRICE_BELOW_MIN),
        (OrderType.LIMIT, "0.01", "5000000", {}, RejectReason.PRICE_ABOVE_MAX),
        (OrderType.LIMIT, "0.0105", "60000", {}, RejectReason.QTY_STEP),
        (OrderType.LIMIT, "1001", "60000", {}, RejectReason.QTY_ABOVE_MAX),
        (OrderType.MARKET, "121", None, {}, RejectReason.MARKET_QTY_ABOVE_MAX),
        (
            OrderType.MARKET,
            "0.001",
            None,
            {"reference_price": Decimal("60000")},
            RejectReason.NOTIONAL_BELOW_MIN,
        ),
        (
            OrderType.STOP_LIMIT,
            "0.01",
            "60000",
            {"stop_price": Decimal("60000.01")},
            RejectReason.STOP_PRICE_TICK,
        ),
    ],
)
def test_validate_returns_precise_reason(
    order_type: OrderType,
    quantity: str,
    price: str | None,
    kwargs: dict[str, Decimal],
    reason: RejectReason,
) -> None:
    price_value = None if price is None else Decimal(price)
    got = BTC_PERP.validate(order_type, OrderSide.BUY, Decimal(quantity), price_value, **kwargs)
    assert got is reason
    with pytest.raises(OrderRejected) as caught:
        BTC_PERP.check(order_type, OrderSide.BUY, Decimal(quantity), price_value, **kwargs)
    assert caught.value.reason is reason
    assert "BTC/USDT:USDT" in str(caught.value)


def test_market_order_without_reference_price_skips_notional() -> None:
    assert BTC_PERP.validate(OrderType.MARKET, OrderSide.BUY, Decimal("0.001")) is None


def test_round_price_buy_down_sell_up_and_explicit_mode() -> None:
    price = Decimal("60000.15")
    assert BTC_PERP.round_price(price, OrderSide.BUY) == Decimal("60000.1")
    assert BTC_PERP.round_price(price, OrderSide.SELL) == Decimal("60000.2")
    assert BTC_PERP.round_price(price, OrderSide.SELL, mode="down") == Decimal("60000.1")
    assert BTC_PERP.round_price(Decimal("60000.16"), OrderSide.BUY, mode="nearest") == Decimal(
        "60000.2"
    )
    assert BTC_PERP.round_price(
        Decimal("60000.25"), OrderSide.BUY, mode=ROUND_HALF_EVEN
    ) == Decimal("60000.2")
    with pytest.raises(ValueError, match="rounding mode 'sideways'"):
        BTC_PERP.round_price(price, OrderSide.BUY, mode="sideways")


def test_normalise_rounds_then_checks() -> None:
    quantity, price = BTC_PERP.normalise(
        OrderType.LIMIT, OrderSide.SELL, Decimal("0.0109"), Decimal("60000.01")
    )
    assert (quantity, price) == (Decimal("0.010"), Decimal("60000.1"))
    with pytest.raises(OrderRejected, match=r"quantity 0\.000 must be positive for BTC/USDT:USDT"):
        BTC_PERP.normalise(OrderType.LIMIT, OrderSide.BUY, Decimal("0.0009"), Decimal("60000"))


def test_permissive_instrument_accepts_tiny_orders() -> None:
    instrument = Instrument.permissive("ETH/USDT")
    assert (instrument.base, instrument.quote, instrument.kind) == ("ETH", "USDT", MarketKind.SPOT)
    assert Instrument.permissive("BTC/USDT:USDT").kind is MarketKind.LINEAR_PERPETUAL
    assert Instrument.permissive("BTCUSDT").base == "BTC"
    assert instrument.min_notional == 0
    assert (
        instrument.validate(OrderType.LIMIT, OrderSide.BUY, Decimal("1e-12"), Decimal("1")) is None
    )


def test_invalid_tick_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="tick_size"):
        Instrument(symbol="X/Y", base="X", quote="Y", tick_size=Decimal(0), step_size=Decimal(1))


@settings(max_examples=200, deadline=None)
@given(tick=ticks, step=steps, price=prices, quantity=quantities, side=sides)
def test_rounded_values_lie_on_grid_and_move_the_right_way(
    tick: Decimal, step: Decimal, price: Decimal, quantity: Decimal, side: OrderSide
) -> None:
    instrument = Instrument(symbol="A/B", base="A", quote="B", tick_size=tick, step_size=step)
    rounded_price = instrument.round_price(price, side)
    rounded_quantity = instrument.round_quantity(quantity)
    assert rounded_price % tick == 0
    assert rounded_quantity % step == 0
    assert abs(rounded_price - price) < tick
    assert 0 <= quantity - rounded_quantity < step
    assert rounded_price <= price if side is OrderSide.BUY else rounded_price >= price
    nearest = instrument.round_price(price, side, mode="nearest")
    assert nearest % tick == 0
    assert abs(nearest - price) <= tick / 2


@settings(max_examples=200, deadline=None)
@given(
    low=st.integers(1, 1000),
    width=st.integers(0, 1000),
    fraction=st.floats(0, 1),
    side=sides,
    tick=ticks,
)
def test_rounding_a_price_inside_bounds_stays_inside(
    low: int, width: int, fraction: float, side: OrderSide, tick: Decimal
) -> None:
    min_price, max_price = low * tick, (low + width) * tick
    instrument = Instrument(
        symbol="A/B",
        base="A",
        quote="B",
        tick_size=tick,
        step_size=Decimal(1),
        min_price=min_price,
        max_price=max_price,
    )
    price = min_price + (max_price - min_price) * Decimal(repr(fraction))
    rounded = instrument.round_price(price, side)
    assert min_price <= rounded <= max_price


def _passes_every_filter(
    instrument: Instrument, order_type: OrderType, quantity: Decimal, price: Decimal | None
) -> bool:
    """An independent statement of the filters, written without the Instrument's helpers."""
    if quantity <= 0 or quantity % instrument.step_size != 0:
        return False
    if price is None:
        low, high = instrument.market_min_qty, instrument.market_max_qty
    else:
        low, high = instrument.min_qty, instrument.max_qty
        if price % instrument.tick_size != 0:
            return False
        if instrument.min_price is not None and price < instrument.min_price:
            return False
        if instrument.max_price is not None and price > instrument.max_price:
            return False
        if price * quantity < instrument.min_notional:
            return False
    return low <= quantity <= high


@settings(max_examples=200, deadline=None)
@given(
    quantity=st.decimals(min_value="0", max_value="1500", places=4),
    price=st.one_of(st.none(), st.decimals(min_value="1", max_value="5000000", places=2)),
    side=sides,
)
def test_an_order_validates_exactly_when_it_passes_every_filter(
    quantity: Decimal, price: Decimal | None, side: OrderSide
) -> None:
    order_type = OrderType.MARKET if price is None else OrderType.LIMIT
    reason = BTC_PERP.validate(order_type, side, quantity, price)
    assert (reason is None) == _passes_every_filter(BTC_PERP, order_type, quantity, price)


@settings(max_examples=200, deadline=None)
@given(
    quantity=st.decimals(min_value="0.0001", max_value="1500", places=5),
    price=st.decimals(min_value="100", max_value="5000000", places=3),
    side=sides,
)
def test_normalised_orders_pass_every_filter(
    quantity: Decimal, price: Decimal, side: OrderSide
) -> None:
    try:
        rounded_quantity, rounded_price = BTC_PERP.normalise(OrderType.LIMIT, side, quantity, price)
    except OrderRejected:
        return
    assert _passes_every_filter(BTC_PERP, OrderType.LIMIT, rounded_quantity, rounded_price)


def test_binance_usdm_btcusdt_filters(real_markets_dir: Path) -> None:
    entry = _load(real_markets_dir / "binance-usdm.json")["BTCUSDT"]
    instrument = Instrument.from_binance(entry)
    assert instrument.symbol == "BTC/USDT:USDT"
    assert instrument.kind is MarketKind.LINEAR_PERPETUAL
    assert instrument.tick_size == Decimal("0.1")
    assert str(instrument.tick_size) == "0.1"
    assert instrument.step_size == Decimal("0.001")
    assert instrument.min_notional == 100
    assert instrument.market_max_qty == 120
    assert instrument.max_qty == 1000
    assert (instrument.min_price, instrument.max_price) == (Decimal("556.8"), Decimal("4529764"))


def test_binance_usdm_every_symbol_parses(real_markets_dir: Path) -> None:
    entries = _load(real_markets_dir / "binance-usdm.json")
    instruments = {name: Instrument.from_binance(entry) for name, entry in entries.items()}
    assert instruments["YFIUSDT"].tick_size == 1
    assert str(instruments["YFIUSDT"].tick_size) == "1"
    assert instruments["ADAUSDT"].step_size == 1
    assert str(instruments["OPUSDT"].tick_size) == "0.0001"
    assert instruments["NEIROUSDT"].tick_size == Decimal("1E-7")
    assert instruments["ETHBTC"].symbol == "ETH/BTC:BTC"
    assert instruments["ETHBTC"].min_notional == Decimal("0.001")
    assert instruments["BTCUSDC"].symbol == "BTC/USDC:USDC"
    btcst = instruments["BTCSTUSDT"]  # PENDING_TRADING, empty contractType
    assert (btcst.symbol, btcst.kind) == ("BTCST/USDT:USDT", MarketKind.LINEAR_PERPETUAL)
    assert (btcst.tick_size, btcst.step_size, btcst.market_max_qty) == (
        Decimal("0.001"),
        Decimal("0.1"),
        Decimal(1000),
    )
    quarterly = instruments["BTCUSDT_241227"]
    assert quarterly.symbol == "BTC/USDT:USDT-241227"
    assert quarterly.kind is MarketKind.LINEAR_FUTURE
    for instrument in instruments.values():
        assert instrument.min_price is None or instrument.min_price % instrument.tick_size == 0


def test_binance_spot_filters(real_markets_dir: Path) -> None:
    entries = _load(real_markets_dir / "binance-spot.json")
    instruments = {name: Instrument.from_binance(entry) for name, entry in entries.items()}
    btc = instruments["BTCUSDT"]
    assert (btc.symbol, btc.kind) == ("BTC/USDT", MarketKind.SPOT)
    assert (btc.tick_size, btc.step_size, btc.min_notional) == (
        Decimal("0.01"),
        Decimal("0.00001"),
        Decimal(10),
    )
    # spot MARKET_LOT_SIZE minQty 0 means "LOT_SIZE applies": market limits are the tighter
    assert btc.market_min_qty == Decimal("0.00001")
    assert btc.market_max_qty == Decimal("169.00949758")
    assert instruments["SHIBUSDT"].step_size == 1
    assert instruments["BQXETH"].tick_size == 10
    assert str(instruments["BQXETH"].tick_size) == "10"
    assert instruments["BTCBIDR"].min_notional == 20000
    assert instruments["BCCBTC"].market_max_qty == instruments["BCCBTC"].max_qty
    rejected = btc.validate(OrderType.LIMIT, OrderSide.BUY, Decimal("0.0001"), Decimal("29000"))
    assert rejected is RejectReason.NOTIONAL_BELOW_MIN


def test_binance_entry_without_filters_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"BTCUSDT lacks PRICE_FILTER\.tickSize"):
        Instrument.from_binance(
            {"symbol": "BTCUSDT", "baseAsset": "BTC", "quoteAsset": "USDT", "filters": []}
        )
