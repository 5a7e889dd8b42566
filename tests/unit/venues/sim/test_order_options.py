"""Time in force, volume caps, latency, fees, slippage, reduce-only, cancel and rejects."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from aegis.model.enums import LiquidityRole, OrderSide, OrderStatus, OrderType, TimeInForce
from aegis.model.errors import ConfigError, DuplicateClientOrderId, OrderNotFound
from aegis.model.events import OrderEventKind, OrderUpdate
from aegis.model.instrument import Instrument
from aegis.venues.sim import FillModel, SimulatedExchange

from .sim_helpers import SYMBOL, candle_ns, feed, make_exchange, make_instrument, make_order

BUY, SELL = OrderSide.BUY, OrderSide.SELL
E = OrderEventKind


def kinds(updates: list[OrderUpdate]) -> list[OrderEventKind]:
    return [u.kind for u in updates]


def quantities(updates: list[OrderUpdate]) -> list[Decimal]:
    return [u.fill.quantity for u in updates if u.fill is not None]


# ----------------------------------------------------------------- post-only, IOC, FOK
def test_post_only_limit_that_would_cross_is_rejected_with_the_reason() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100)
    updates = exchange.submit(
        make_order(BUY, OrderType.LIMIT, price="100.5", time_in_force=TimeInForce.POST_ONLY),
        candle_ns(1),
    )
    assert kinds(updates) == [E.REJECT]
    assert updates[0].reason is not None
    assert "would cross" in updates[0].reason
    assert not exchange.has_open_orders()


def test_post_only_limit_rests_and_fills_as_maker() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100)
    order = make_order(BUY, OrderType.LIMIT, price="99", time_in_force=TimeInForce.POST_ONLY)
    assert kinds(exchange.submit(order, candle_ns(1))) == [E.ACCEPT]
    updates = feed(exchange, 1, 100, 100, 98, 99)
    assert updates[0].fill is not None
    assert updates[0].fill.liquidity is LiquidityRole.MAKER


def test_post_only_expires_when_the_next_open_gaps_through_it() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100)
    order = make_order(BUY, OrderType.LIMIT, price="99", time_in_force=TimeInForce.POST_ONLY)
    exchange.submit(order, candle_ns(1))
    assert kinds(feed(exchange, 1, 97, 98, 96, 97)) == [E.EXPIRE]


def test_ioc_limit_fills_at_the_next_open_when_marketable() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100)
    order = make_order(BUY, OrderType.LIMIT, price="100", time_in_force=TimeInForce.IOC)
    exchange.submit(order, candle_ns(1))
    updates = feed(exchange, 1, 99.5, 101, 99, 100)
    assert kinds(updates) == [E.FILL]
    assert updates[0].fill is not None
    assert updates[0].fill.price == Decimal("99.5")


def test_ioc_limit_not_marketable_at_the_open_expires_without_a_fill() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100)
    order = make_order(BUY, OrderType.LIMIT, price="99", time_in_force=TimeInForce.IOC)
    exchange.submit(order, candle_ns(1))
    # The low trades through 99 later in the candle, but IOC only meets the market on arrival.
    assert kinds(feed(exchange, 1, 100, 101, 98, 100)) == [E.EXPIRE]
    assert exchange.fills() == []


def test_ioc_fills_what_the_volume_cap_allows_and_expires_the_rest() -> None:
    exchange = make_exchange(FillModel(max_volume_share=0.1))
    order = make_order(BUY, quantity="2", time_in_force=TimeInForce.IOC)
    exchange.submit(order, candle_ns(1))
    updates = feed(exchange, 1, 100, 101, 99, 100, volume=5)
    assert kinds(updates) == [E.PARTIAL_FILL, E.EXPIRE]
    assert quantities(updates) == [Decimal("0.5")]


def test_fok_expires_without_a_fill_when_the_volume_cap_is_too_small() -> None:
    exchange = make_exchange(FillModel(max_volume_share=0.1))
    exchange.submit(make_order(BUY, quantity="2", time_in_force=TimeInForce.FOK), candle_ns(1))
    assert kinds(feed(exchange, 1, 100, 101, 99, 100, volume=5)) == [E.EXPIRE]
    assert exchange.fills() == []


def test_fok_fills_completely_when_the_volume_allows() -> None:
    exchange = make_exchange(FillModel(max_volume_share=0.1))
    exchange.submit(make_order(BUY, quantity="2", time_in_force=TimeInForce.FOK), candle_ns(1))
    assert kinds(feed(exchange, 1, 100, 101, 99, 100, volume=20)) == [E.FILL]


# ----------------------------------------------------------------- partial fills
def test_partial_fills_by_volume_share_continue_on_later_candles() -> None:
    exchange = make_exchange(FillModel(max_volume_share=0.1))
    order = make_order(BUY, quantity="1.2")
    exchange.submit(order, candle_ns(1))
    first = feed(exchange, 1, 100, 101, 99, 100, volume=5)
    second = feed(exchange, 2, 101, 102, 100, 101, volume=5)
    third = feed(exchange, 3, 102, 103, 101, 102, volume=5)
    assert (kinds(first), kinds(second), kinds(third)) == (
        [E.PARTIAL_FILL],
        [E.PARTIAL_FILL],
        [E.FILL],
    )
    assert quantities(first + second + third) == [Decimal("0.5"), Decimal("0.5"), Decimal("0.2")]
    snapshot = exchange.get_order(order.client_order_id)
    assert snapshot.status is OrderStatus.FILLED
    assert snapshot.average_fill_price == (
        Decimal("50") + Decimal("50.5") + Decimal("20.4")
    ) / Decimal("1.2")


def test_volume_cap_is_shared_by_the_orders_of_a_symbol_in_submission_order() -> None:
    exchange = make_exchange(FillModel(max_volume_share=0.1))
    exchange.submit(make_order(BUY, quantity="0.4"), candle_ns(1))
    exchange.submit(make_order(BUY, quantity="0.4"), candle_ns(1))
    updates = feed(exchange, 1, 100, 101, 99, 100, volume=5)
    assert quantities(updates) == [Decimal("0.4"), Decimal("0.1")]


def test_nan_volume_means_no_cap() -> None:
    exchange = make_exchange(FillModel(max_volume_share=0.01))
    exchange.submit(make_order(BUY, quantity="3"), candle_ns(1))
    assert quantities(feed(exchange, 1, 100, 101, 99, 100, volume=float("nan"))) == [Decimal(3)]


def test_zero_volume_candle_fills_nothing_under_a_cap() -> None:
    exchange = make_exchange(FillModel(max_volume_share=0.5))
    exchange.submit(make_order(BUY, quantity="1"), candle_ns(1))
    assert feed(exchange, 1, 100, 100, 100, 100, volume=0) == []
    assert exchange.has_open_orders()


# ----------------------------------------------------------------- latency
def test_latency_delays_eligibility_to_the_first_candle_opening_after_it() -> None:
    exchange = make_exchange(FillModel(latency_ms=90_000))
    exchange.submit(make_order(BUY), candle_ns(1))
    assert feed(exchange, 1, 100, 101, 99, 100) == []
    assert feed(exchange, 2, 101, 102, 100, 101) == []
    updates = feed(exchange, 3, 102, 103, 101, 102)
    assert updates[0].fill is not None
    assert updates[0].fill.price == Decimal("102")
    assert updates[0].ts_ns == candle_ns(3)


def test_latency_equal_to_the_gap_still_fills_on_that_candle() -> None:
    exchange = make_exchange(FillModel(latency_ms=60_000))
    exchange.submit(make_order(BUY), candle_ns(1))
    assert feed(exchange, 1, 100, 101, 99, 100) == []
    assert kinds(feed(exchange, 2, 101, 102, 100, 101)) == [E.FILL]


# ----------------------------------------------------------------- fees and slippage
def test_maker_and_taker_fees_use_the_instrument_rates_in_quote() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100)
    exchange.submit(make_order(BUY, quantity="2"), candle_ns(1))
    exchange.submit(make_order(SELL, OrderType.LIMIT, "2", price="110"), candle_ns(1))
    taker = feed(exchange, 1, 100, 101, 99, 100)[0].fill
    maker = feed(exchange, 2, 105, 111, 104, 110)[0].fill
    assert taker is not None
    assert maker is not None
    assert (taker.liquidity, taker.fee, taker.fee_currency) == (
        LiquidityRole.TAKER,
        Decimal("200") * Decimal("0.0005"),
        "USDT",
    )
    assert (maker.liquidity, maker.fee) == (LiquidityRole.MAKER, Decimal("220") * Decimal("0.0002"))


def test_fee_rate_override_applies_to_maker_and_taker() -> None:
    exchange = make_exchange(FillModel(fee_rate_override=Decimal("0.001")))
    exchange.submit(make_order(BUY, quantity="0.001"), candle_ns(1))
    fill = feed(exchange, 1, 43210.5, 43300, 43100, 43250)[0].fill
    assert fill is not None
    assert fill.fee == Decimal("43210.5") * Decimal("0.001") * Decimal("0.001")


def test_slippage_moves_taker_fills_against_the_taker_on_the_tick_grid() -> None:
    exchange = make_exchange(FillModel(slippage_bps=10))
    exchange.submit(make_order(BUY), candle_ns(1))
    exchange.submit(make_order(SELL), candle_ns(1))
    buy, sell = (u.fill for u in feed(exchange, 1, 100, 101, 99, 100))
    assert buy is not None
    assert sell is not None
    assert (buy.price, sell.price) == (Decimal("100.1"), Decimal("99.9"))
    exchange.submit(make_order(BUY), candle_ns(2))
    # 100.07 * 1.001 = 100.17007 -> rounded up to the 0.1 tick: never better than the model.
    assert feed(exchange, 2, 100.07, 101, 99, 100)[0].fill.price == Decimal("100.2")  # type: ignore[union-attr]


def test_slippage_never_passes_a_marketable_limit_price() -> None:
    exchange = make_exchange(FillModel(slippage_bps=50))
    exchange.submit(make_order(BUY, OrderType.LIMIT, price="100.2"), candle_ns(1))
    fill = feed(exchange, 1, 100, 101, 99, 100)[0].fill
    assert fill is not None
    assert fill.price == Decimal("100.2")


def test_maker_fills_get_no_slippage() -> None:
    exchange = make_exchange(FillModel(slippage_bps=50))
    feed(exchange, 0, 100, 101, 99, 100)
    exchange.submit(make_order(BUY, OrderType.LIMIT, price="99"), candle_ns(1))
    fill = feed(exchange, 1, 100, 100, 98, 99)[0].fill
    assert fill is not None
    assert fill.price == Decimal("99")


def test_random_slippage_is_seeded_and_bounded() -> None:
    def prices(seed: int) -> list[Decimal]:
        exchange = make_exchange(FillModel(slippage_bps=5, slippage_random_bps=20, seed=seed))
        result = []
        for index in range(1, 30):
            exchange.submit(make_order(BUY), candle_ns(index))
            fill = feed(exchange, index, 1000, 1001, 999, 1000)[0].fill
            assert fill is not None
            result.append(fill.price)
        return result

    first = prices(7)
    assert first == prices(7)
    assert first != prices(8)
    assert all(Decimal("1000.5") <= price <= Decimal("1002.5") for price in first)
    assert len(set(first)) > 5


# ----------------------------------------------------------------- reduce-only
def test_reduce_only_without_a_position_is_rejected() -> None:
    exchange = make_exchange()
    updates = exchange.submit(make_order(SELL, reduce_only=True), candle_ns(1))
    assert kinds(updates) == [E.REJECT]
    assert updates[0].reason is not None
    assert "reduce-only" in updates[0].reason


def test_reduce_only_fill_is_capped_at_the_position_and_never_flips_it() -> None:
    exchange = make_exchange()
    exchange.submit(make_order(BUY, quantity="1"), candle_ns(1))
    feed(exchange, 1, 100, 101, 99, 100)
    assert exchange.position(SYMBOL) == Decimal(1)
    exchange.submit(make_order(SELL, quantity="3", reduce_only=True), candle_ns(2))
    updates = feed(exchange, 2, 100, 101, 99, 100)
    assert kinds(updates) == [E.PARTIAL_FILL, E.EXPIRE]
    assert quantities(updates) == [Decimal(1)]
    assert exchange.position(SYMBOL) == 0


def test_reduce_only_expires_when_the_position_is_gone_before_it_fills() -> None:
    exchange = make_exchange()
    exchange.submit(make_order(BUY, quantity="1"), candle_ns(1))
    feed(exchange, 1, 100, 101, 99, 100)
    exchange.submit(
        make_order(SELL, OrderType.LIMIT, "1", price="110", reduce_only=True), candle_ns(2)
    )
    exchange.submit(make_order(SELL, quantity="1"), candle_ns(2))
    assert kinds(feed(exchange, 2, 100, 101, 99, 100)) == [E.FILL]
    assert kinds(feed(exchange, 3, 105, 111, 104, 110)) == [E.EXPIRE]
    assert exchange.position(SYMBOL) == 0


# ----------------------------------------------------------------- cancel and queries
def test_cancel_removes_the_order_before_it_can_fill() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100)
    order = make_order(BUY, OrderType.LIMIT, price="99")
    exchange.submit(order, candle_ns(1))
    updates = exchange.cancel(order.client_order_id, candle_ns(1) + 5)
    assert kinds(updates) == [E.CANCEL]
    assert updates[0].venue_order_id == "1"
    assert feed(exchange, 1, 100, 100, 90, 95) == []
    assert exchange.get_order(order.client_order_id).status is OrderStatus.CANCELLED
    assert exchange.open_orders() == []
    assert len(exchange.orders()) == 1


def test_cancel_of_an_unknown_or_finished_order_raises_order_not_found() -> None:
    exchange = make_exchange()
    with pytest.raises(OrderNotFound, match="nope"):
        exchange.cancel("nope", 1)
    order = make_order(BUY)
    exchange.submit(order, candle_ns(1))
    feed(exchange, 1, 100, 101, 99, 100)
    with pytest.raises(OrderNotFound, match="filled"):
        exchange.cancel(order.client_order_id, candle_ns(2))


def test_open_orders_filter_by_symbol_and_keep_submission_order() -> None:
    other = make_instrument(symbol="ETH/USDT:USDT", base="ETH")
    exchange = SimulatedExchange({SYMBOL: make_instrument(), other.symbol: other}, FillModel())
    first = make_order(BUY, OrderType.LIMIT, price="90")
    second = make_order(BUY, OrderType.LIMIT, price="10", symbol=other.symbol)
    third = make_order(SELL, OrderType.LIMIT, price="120")
    for order in (first, second, third):
        exchange.submit(order, candle_ns(1))
    ids = [o.client_order_id for o in exchange.open_orders(SYMBOL)]
    assert ids == [first.client_order_id, third.client_order_id]
    assert len(exchange.open_orders()) == 3
    assert exchange.has_open_orders(other.symbol)
    assert not exchange.has_open_orders("X/Y")
    assert exchange.open_orders(SYMBOL)[0].status is OrderStatus.ACCEPTED


def test_duplicate_client_order_id_raises() -> None:
    exchange = make_exchange()
    exchange.submit(make_order(BUY, client_order_id="dup"), candle_ns(1))
    with pytest.raises(DuplicateClientOrderId, match="dup"):
        exchange.submit(make_order(BUY, client_order_id="dup"), candle_ns(1))


def test_unknown_symbol_is_rejected() -> None:
    updates = make_exchange().submit(make_order(BUY, symbol="DOGE/USDT"), candle_ns(1))
    assert kinds(updates) == [E.REJECT]
    assert updates[0].reason is not None
    assert "DOGE/USDT" in updates[0].reason


# ----------------------------------------------------------------- real filters
@pytest.fixture
def xrp(real_markets_dir: Path) -> Instrument:
    entries = json.loads((real_markets_dir / "binance-usdm.json").read_text())["symbols"]
    return Instrument.from_binance(next(e for e in entries if e["symbol"] == "XRPUSDT"))


@pytest.mark.parametrize(
    ("quantity", "price", "expected"),
    [
        ("10.05", "0.5", "step_size 0.1"),
        ("100", "0.50005", "tick_size 0.0001"),
        ("5", "0.5", "min_notional 5"),
    ],
)
def test_filter_violation_on_a_real_binance_instrument_is_a_reject_with_reason(
    xrp: Instrument, quantity: str, price: str, expected: str
) -> None:
    exchange = SimulatedExchange({xrp.symbol: xrp}, FillModel())
    order = make_order(BUY, OrderType.LIMIT, quantity, price=price, symbol=xrp.symbol)
    updates = exchange.submit(order, candle_ns(1))
    assert kinds(updates) == [E.REJECT]
    assert updates[0].reason is not None
    assert expected in updates[0].reason
    assert xrp.symbol in updates[0].reason
    assert exchange.orders() == []


def test_market_order_notional_is_checked_against_the_last_price(xrp: Instrument) -> None:
    exchange = SimulatedExchange({xrp.symbol: xrp}, FillModel())
    exchange.on_candle(xrp.symbol, 0, 0.5, 0.51, 0.49, 0.5, 1e6)
    updates = exchange.submit(make_order(BUY, quantity="9", symbol=xrp.symbol), candle_ns(1))
    assert kinds(updates) == [E.REJECT]
    accepted = exchange.submit(make_order(BUY, quantity="10", symbol=xrp.symbol), candle_ns(1))
    assert kinds(accepted) == [E.ACCEPT]


def test_fill_model_rejects_bad_parameters() -> None:
    with pytest.raises(ConfigError, match="max_volume_share"):
        FillModel(max_volume_share=1.5)
    with pytest.raises(ConfigError, match="slippage_bps"):
        FillModel(slippage_bps=-1)
    with pytest.raises(ConfigError, match="latency_ms"):
        FillModel(latency_ms=-5)


def test_limit_price_outside_the_venue_band_is_rejected_against_the_last_price(
    xrp: Instrument,
) -> None:
    # XRPUSDT's real PERCENT_PRICE: a buy at most 1.05 x, a sell at least 0.95 x the reference
    exchange = SimulatedExchange({xrp.symbol: xrp}, FillModel())
    exchange.on_candle(xrp.symbol, 0, 0.5, 0.51, 0.49, 0.5, 1e6)
    too_high = make_order(BUY, OrderType.LIMIT, "20", price="0.5251", symbol=xrp.symbol)
    updates = exchange.submit(too_high, candle_ns(1))
    assert kinds(updates) == [E.REJECT]
    assert updates[0].reason is not None
    assert "above the price band's maximum for a buy" in updates[0].reason
    too_low = make_order(SELL, OrderType.LIMIT, "20", price="0.4749", symbol=xrp.symbol)
    assert kinds(exchange.submit(too_low, candle_ns(1))) == [E.REJECT]
    passive = make_order(BUY, OrderType.LIMIT, "40", price="0.25", symbol=xrp.symbol)
    assert kinds(exchange.submit(passive, candle_ns(1))) == [E.ACCEPT]
