"""Fill rules against candles: next-open fills, limits through the price, stops, take-profits."""

from __future__ import annotations

from decimal import Decimal

from aegis.model.enums import LiquidityRole, OrderSide, OrderStatus, OrderType
from aegis.model.events import OrderEventKind, OrderUpdate
from aegis.venues.sim import FillModel

from .sim_helpers import candle_ns, feed, make_exchange, make_order

BUY, SELL = OrderSide.BUY, OrderSide.SELL


def only_fill(updates: list[OrderUpdate]) -> tuple[Decimal, LiquidityRole]:
    assert [u.kind for u in updates] == [OrderEventKind.FILL], updates
    fill = updates[0].fill
    assert fill is not None
    return fill.price, fill.liquidity


def test_submit_accepts_with_venue_id_and_never_fills() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100)
    updates = exchange.submit(make_order(BUY), candle_ns(1))
    assert [u.kind for u in updates] == [OrderEventKind.ACCEPT]
    assert updates[0].venue_order_id == "1"
    assert exchange.fills() == []
    assert exchange.has_open_orders()


def test_market_order_decided_on_close_fills_at_next_open() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100.5)
    exchange.submit(make_order(BUY), candle_ns(1))
    assert only_fill(feed(exchange, 1, 102, 103, 101, 102.5)) == (
        Decimal("102"),
        LiquidityRole.TAKER,
    )
    assert not exchange.has_open_orders()


def test_order_never_fills_on_the_candle_already_seen_even_with_its_open_time() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100.5)
    # A caller that stamps the order with the decision candle's *open* time must still not
    # fill on that candle: only market data arriving after the submission counts.
    exchange.submit(make_order(BUY), candle_ns(0))
    price, _ = only_fill(feed(exchange, 1, 102, 103, 101, 102.5))
    assert price == Decimal("102")


def test_candle_older_than_the_submission_does_not_fill() -> None:
    exchange = make_exchange()
    exchange.submit(make_order(BUY), candle_ns(5))
    assert feed(exchange, 4, 100, 101, 99, 100) == []
    assert only_fill(feed(exchange, 5, 103, 104, 102, 103))[0] == Decimal("103")


def test_limit_buy_needs_the_range_to_trade_through_its_price() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99.5, 100)
    exchange.submit(make_order(BUY, OrderType.LIMIT, price="99"), candle_ns(1))
    assert feed(exchange, 1, 100, 101, 99, 100) == []  # touched only
    assert only_fill(feed(exchange, 2, 100, 100, 98.9, 99.5)) == (
        Decimal("99"),
        LiquidityRole.MAKER,
    )


def test_limit_fills_on_touch_when_the_fill_model_says_so() -> None:
    exchange = make_exchange(FillModel(limit_fill_on_touch=True))
    feed(exchange, 0, 100, 101, 99.5, 100)
    exchange.submit(make_order(BUY, OrderType.LIMIT, price="99"), candle_ns(1))
    assert only_fill(feed(exchange, 1, 100, 101, 99, 100)) == (Decimal("99"), LiquidityRole.MAKER)


def test_limit_sell_needs_the_high_above_its_price() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99.5, 100)
    exchange.submit(make_order(SELL, OrderType.LIMIT, price="102"), candle_ns(1))
    assert feed(exchange, 1, 100, 102, 99, 100) == []
    assert only_fill(feed(exchange, 2, 100, 102.1, 99, 100))[0] == Decimal("102")


def test_resting_limit_fills_at_the_open_when_the_open_gapped_through() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99.5, 100)
    exchange.submit(make_order(BUY, OrderType.LIMIT, price="99"), candle_ns(1))
    assert feed(exchange, 1, 100, 101, 99.5, 100) == []
    assert only_fill(feed(exchange, 2, 97, 98, 96, 97)) == (Decimal("97"), LiquidityRole.MAKER)


def test_marketable_limit_fills_at_the_next_open_as_taker() -> None:
    exchange = make_exchange()
    exchange.submit(make_order(BUY, OrderType.LIMIT, price="101"), candle_ns(1))
    assert only_fill(feed(exchange, 1, 100, 102, 99, 101)) == (
        Decimal("100"),
        LiquidityRole.TAKER,
    )


def test_stop_market_triggers_at_its_price() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100)
    exchange.submit(make_order(BUY, OrderType.STOP_MARKET, stop_price="105"), candle_ns(1))
    assert feed(exchange, 1, 100, 104.9, 99, 104) == []
    assert only_fill(feed(exchange, 2, 104, 106, 103, 105)) == (
        Decimal("105"),
        LiquidityRole.TAKER,
    )


def test_stop_triggers_at_its_price_when_touched() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100)
    exchange.submit(make_order(SELL, OrderType.STOP_MARKET, stop_price="95"), candle_ns(1))
    assert only_fill(feed(exchange, 1, 100, 101, 95, 96))[0] == Decimal("95")


def test_stop_fills_at_the_open_when_the_open_gaps_through_it() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100)
    exchange.submit(make_order(SELL, OrderType.STOP_MARKET, stop_price="95"), candle_ns(1))
    assert only_fill(feed(exchange, 1, 93, 94, 90, 92)) == (Decimal("93"), LiquidityRole.TAKER)


def test_stop_limit_fills_at_the_trigger_price_when_its_limit_allows() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100)
    order = make_order(BUY, OrderType.STOP_LIMIT, price="106", stop_price="105")
    exchange.submit(order, candle_ns(1))
    assert only_fill(feed(exchange, 1, 100, 107, 99, 106)) == (
        Decimal("105"),
        LiquidityRole.TAKER,
    )


def test_stop_limit_gapped_past_its_limit_rests_and_fills_later_as_maker() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100)
    order = make_order(BUY, OrderType.STOP_LIMIT, price="106", stop_price="105")
    exchange.submit(order, candle_ns(1))
    # Triggered at the open 108, above the limit: it rests; this candle's low is not used
    # because where the price went after the trigger is unknown.
    assert feed(exchange, 1, 108, 109, 105, 108) == []
    assert exchange.get_order(order.client_order_id).status is OrderStatus.ACCEPTED
    assert only_fill(feed(exchange, 2, 107, 108, 105.5, 106)) == (
        Decimal("106"),
        LiquidityRole.MAKER,
    )


def test_take_profit_sell_triggers_when_the_price_rises_to_it() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100)
    exchange.submit(make_order(SELL, OrderType.TAKE_PROFIT, stop_price="110"), candle_ns(1))
    assert feed(exchange, 1, 100, 109, 95, 100) == []  # a fall does not trigger it
    assert only_fill(feed(exchange, 2, 105, 111, 104, 110)) == (
        Decimal("110"),
        LiquidityRole.TAKER,
    )


def test_take_profit_buy_fills_at_the_open_when_the_open_gaps_below_it() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100)
    exchange.submit(make_order(BUY, OrderType.TAKE_PROFIT, stop_price="90"), candle_ns(1))
    assert only_fill(feed(exchange, 1, 88, 89, 87, 88))[0] == Decimal("88")


def test_stop_that_would_trigger_immediately_is_rejected() -> None:
    exchange = make_exchange()
    feed(exchange, 0, 100, 101, 99, 100)
    updates = exchange.submit(make_order(BUY, OrderType.STOP_MARKET, stop_price="99"), candle_ns(1))
    assert updates[0].kind is OrderEventKind.REJECT
    assert updates[0].reason is not None
    assert "trigger immediately" in updates[0].reason


def test_fills_can_be_applied_to_the_callers_order() -> None:
    exchange = make_exchange(FillModel(max_volume_share=0.5))
    order = make_order(BUY, quantity="3")
    order = order.apply(OrderUpdate(order.client_order_id, OrderEventKind.SUBMIT, 1))
    for update in exchange.submit(order, candle_ns(1)):
        order = order.apply(update)
    for index in (1, 2, 3):
        for update in feed(exchange, index, 100 + index, 105, 95, 100, volume=2):
            order = order.apply(update)
    assert order.status is OrderStatus.FILLED
    assert order.average_fill_price == Decimal(101 + 102 + 103) / 3
    assert exchange.get_order(order.client_order_id).average_fill_price == (
        order.average_fill_price
    )
