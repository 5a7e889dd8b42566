"""Order mapping (PR2), retry-with-lookup (OR2) on a fake ccxt-like exchange, stream parsing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import ccxt
import pytest
from ccxt.base.decimal_to_precision import DECIMAL_PLACES, SIGNIFICANT_DIGITS

from aegis.config import ExchangeSettings
from aegis.execution import OrderManager
from aegis.model import (
    ConfigError,
    Instrument,
    MarketKind,
    Order,
    OrderEventKind,
    OrderRejected,
    OrderSide,
    OrderStatus,
    OrderType,
    Portfolio,
    PositionSide,
    TransientVenueError,
)
from aegis.model.signals import Action, Decision
from aegis.venues.ccxt import (
    CcxtVenue,
    RateLimitGate,
    RetryPolicy,
    build_request,
    instrument_from_market,
    profile_for,
    wire_decimal,
)
from aegis.venues.ccxt.streams import ClosedCandles, OrderUpdateTracker

BTC = Instrument(
    symbol="BTC/USDT:USDT", base="BTC", quote="USDT", kind=MarketKind.LINEAR_PERPETUAL,
    tick_size=Decimal("0.1"), step_size=Decimal("0.001"), min_qty=Decimal("0.001"),
    min_notional=Decimal(100),
)  # fmt: skip


def _order(order_type: OrderType = OrderType.LIMIT, **changes: Any) -> Order:
    values: dict[str, Any] = {
        "client_order_id": "bot1-7", "bot_id": "bot1", "symbol": BTC.symbol,
        "side": OrderSide.BUY, "type": order_type, "quantity": Decimal("0.010"),
        "price": Decimal("50000.0"), "status": OrderStatus.SUBMITTED,
    }  # fmt: skip
    values.update(changes)
    return Order(**values)


def test_wire_decimal_is_plain_text_without_exponent_or_trailing_zeros() -> None:
    assert wire_decimal(Decimal("1E-7")) == "0.0000001"
    assert wire_decimal(Decimal("50000.0")) == "50000"
    assert wire_decimal(Decimal("0.0100")) == "0.01"


def test_binance_limit_request_carries_strings_and_the_client_id() -> None:
    request = build_request(_order(), BTC, profile_for("binanceusdm"))
    assert (request.type, request.amount, request.price) == ("limit", "0.01", "50000")
    assert request.params == {"newClientOrderId": "bot1-7", "timeInForce": "GTC"}


def test_binance_stop_market_uses_the_algo_client_id_and_trigger_price() -> None:
    order = _order(OrderType.STOP_MARKET, price=None, side=OrderSide.SELL,
                   stop_price=Decimal("45000.04"), reduce_only=True)  # fmt: skip
    request = build_request(order, BTC, profile_for("binanceusdm"))
    assert request.type == "market"
    assert request.params == {
        "clientAlgoId": "bot1-7", "triggerPrice": "45000", "reduceOnly": True,
    }  # fmt: skip


def test_take_profit_uses_take_profit_price() -> None:
    order = _order(OrderType.TAKE_PROFIT, price=None, stop_price=Decimal("60000"))
    assert build_request(order, BTC, profile_for("binanceusdm")).params["takeProfitPrice"] == (
        "60000"
    )


def test_off_grid_values_are_normalised_before_the_wire() -> None:
    order = _order(quantity=Decimal("0.0109"), price=Decimal("50000.07"))
    request = build_request(order, BTC, profile_for("binanceusdm"))
    assert (request.amount, request.price) == ("0.01", "50000")


def test_an_order_below_min_notional_is_rejected_locally() -> None:
    with pytest.raises(OrderRejected, match=r"notional 50\.0000 below min_notional 100"):
        build_request(_order(quantity=Decimal("0.001")), BTC, profile_for("binanceusdm"))


def test_market_order_notional_is_checked_against_the_reference_price() -> None:
    order = _order(OrderType.MARKET, price=None, quantity=Decimal("0.002"))
    with pytest.raises(OrderRejected, match="min_notional"):
        build_request(order, BTC, profile_for("binanceusdm"), reference_price=Decimal(50000))


def test_decimal_places_precision_becomes_a_tick() -> None:
    market = {
        "symbol": "ETH/EUR", "base": "ETH", "quote": "EUR", "spot": True,
        "precision": {"price": 2, "amount": 4}, "limits": {"amount": {"min": 0.01}},
    }  # fmt: skip
    inst = instrument_from_market(market, DECIMAL_PLACES)
    assert (inst.tick_size, inst.step_size, inst.min_qty) == (
        Decimal("0.01"), Decimal("0.0001"), Decimal("0.01"),
    )  # fmt: skip
    with pytest.raises(ConfigError, match="significant digits"):
        instrument_from_market(market, SIGNIFICANT_DIGITS)


class FakeExchange:
    """A ccxt-like exchange: the first create_order reaches the book but its answer times out."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.book: dict[str, dict[str, Any]] = {}
        self.creates = 0
        self.last_response_headers: dict[str, str] = {}

    async def create_order(self, symbol, type, side, amount, price, params):  # type: ignore[no-untyped-def]
        self.creates += 1
        cid = params["newClientOrderId"]
        if cid in self.book:
            raise ccxt.InvalidOrder(
                'binanceusdm {"code":-4116,"msg":"ClientOrderId is duplicated."}'
            )
        self.book[cid] = {
            "id": str(len(self.book) + 1), "clientOrderId": cid, "symbol": symbol,
            "side": side, "type": type, "amount": amount, "filled": "0", "status": "open",
            "price": price, "timestamp": 1,
        }  # fmt: skip
        if self.failures:
            raise self.failures.pop(0)
        return self.book[cid]

    async def fetch_order(self, id, symbol, params):  # type: ignore[no-untyped-def]
        found = self.book.get(params.get("clientOrderId") or params.get("clientAlgoId"))
        if found is None:
            raise ccxt.OrderNotFound("Order does not exist.")
        return found


def _fake_venue(exchange: FakeExchange) -> CcxtVenue:
    async def no_sleep(seconds: float) -> None:
        return None

    venue = CcxtVenue(
        "binanceusdm", ExchangeSettings(), exchange=exchange,
        gate=RateLimitGate(sleep=no_sleep), policy=RetryPolicy(max_attempts=3, seed=0),
        sleep=no_sleep,
    )  # fmt: skip
    venue._instruments = {BTC.symbol: BTC}
    return venue


async def test_a_timed_out_placement_is_found_by_client_id_and_never_sent_twice() -> None:
    exchange = FakeExchange([ccxt.RequestTimeout("read timeout")])
    update = await _fake_venue(exchange).submit(_order())
    assert update.kind is OrderEventKind.ACCEPT
    assert update.venue_order_id == "1"
    assert exchange.creates == 1


async def test_a_duplicate_answer_resolves_to_the_existing_order() -> None:
    exchange = FakeExchange([])
    venue = _fake_venue(exchange)
    first = await venue.submit(_order())
    again = await venue.submit(_order())
    assert again.venue_order_id == first.venue_order_id
    assert len(exchange.book) == 1


async def test_transient_failures_without_an_order_retry_then_give_up() -> None:
    class Down(FakeExchange):
        async def create_order(self, *args: Any, **kwargs: Any) -> Any:
            self.creates += 1
            raise ccxt.ExchangeNotAvailable("503")

    exchange = Down([])
    with pytest.raises(TransientVenueError, match="bot1-7"):
        await _fake_venue(exchange).submit(_order())
    assert exchange.creates == 3


def test_closed_candles_use_the_venue_flag_or_a_newer_candle() -> None:
    tracker = ClosedCandles()
    rows = [[0, 1, 2, 0.5, 1.5, 10], [60_000, 1.5, 2, 1, 1.8, 5]]
    assert [c.ts_ms for c in tracker.closed("X/Y", "XY", "1m", rows)] == [0]
    tracker.mark_closed("XY", "1m", 60_000)
    assert [c.ts_ms for c in tracker.closed("X/Y", "XY", "1m", rows)] == [60_000]
    assert tracker.closed("X/Y", "XY", "1m", rows) == []


def test_order_snapshots_become_accept_partial_and_fill_events_once() -> None:
    tracker = OrderUpdateTracker()
    base = {"clientOrderId": "c1", "id": "9", "symbol": "X/Y", "side": "buy", "amount": "2",
            "timestamp": 5}  # fmt: skip
    first = tracker.updates({**base, "filled": "0", "status": "open"})
    info = {"L": "10.5", "t": 77, "n": "0.01", "N": "USDT"}
    partial = tracker.updates({**base, "filled": "0.5", "status": "open", "info": info})
    repeat = tracker.updates({**base, "filled": "0.5", "status": "open"})
    done = tracker.updates({**base, "filled": "2", "status": "closed", "average": "10.6"})
    assert [u.kind for u in first] == [OrderEventKind.ACCEPT]
    assert [u.kind for u in partial] == [OrderEventKind.PARTIAL_FILL]
    fill = partial[0].fill
    assert fill is not None
    assert (fill.price, fill.quantity, fill.trade_id, fill.fee) == (
        Decimal("10.5"), Decimal("0.5"), "77", Decimal("0.01"),
    )  # fmt: skip
    assert repeat == []
    assert [u.kind for u in done] == [OrderEventKind.FILL]
    assert done[0].fill is not None
    assert done[0].fill.quantity == Decimal("1.5")


def test_one_way_order_from_the_order_manager_sends_no_position_side() -> None:
    # Binance answers -4061 to a positionSide on a one-way account.
    manager = OrderManager("bot1", {BTC.symbol: BTC}, Portfolio({"USDT": Decimal(10_000)}))
    plan = manager.plan(Decision(BTC.symbol, 0, Action.ENTER_SHORT, 1.0, "why", "test"))
    assert plan is not None
    order = manager.create(plan, Decimal("0.01"), 1, reference_price=Decimal(50000))
    request = build_request(order, BTC, profile_for("binanceusdm"))
    assert "positionSide" not in request.params
    assert request.params == {"newClientOrderId": order.client_order_id}


def test_hedge_mode_order_sends_its_position_side() -> None:
    order = _order(OrderType.MARKET, price=None, side=OrderSide.SELL,
                   position_side=PositionSide.SHORT)  # fmt: skip
    request = build_request(order, BTC, profile_for("binanceusdm"), reference_price=Decimal(50000))
    assert request.params["positionSide"] == "SHORT"


def test_a_hedge_mode_exit_sends_no_reduce_only() -> None:
    # Binance answers -1106 to reduceOnly in hedge mode: a SELL on the LONG leg closes it
    exit_long = _order(OrderType.MARKET, price=None, side=OrderSide.SELL,
                       position_side=PositionSide.LONG).replace(reduce_only=True)  # fmt: skip
    request = build_request(exit_long, BTC, profile_for("binanceusdm"),
                            reference_price=Decimal(50000))  # fmt: skip
    assert request.params["positionSide"] == "LONG"
    assert "reduceOnly" not in request.params
    one_way = build_request(exit_long.replace(position_side=None), BTC,
                            profile_for("binanceusdm"), reference_price=Decimal(50000))  # fmt: skip
    assert one_way.params["reduceOnly"] is True
