"""The crash harness's checks catch each kind of damage (synthetic venue and store records)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from benchmarks.crash_check import (
    Verdict,
    check_duplicates,
    check_fills,
    check_orders,
    check_positions,
)
from benchmarks.crash_test import FALLBACK, HIT_RANGES, crash_plan

from aegis.model import (
    Fill,
    LiquidityRole,
    Order,
    OrderSide,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
)

SYMBOL = "XRP/USDT:USDT"


def venue_order(order_id: int, client_id: str, status: str = "FILLED", executed: str = "10") -> Any:
    return {"orderId": order_id, "clientOrderId": client_id, "status": status,
            "executedQty": executed}  # fmt: skip


def venue_trade(trade_id: int, order_id: int, side: str = "BUY") -> Any:
    return {"id": trade_id, "orderId": order_id, "side": side, "qty": "10", "price": "1.1"}


def stored_order(client_id: str, side: OrderSide = OrderSide.BUY, **changes: Any) -> Order:
    order = Order(client_order_id=client_id, bot_id="bot1", symbol=SYMBOL, side=side,
                  type=OrderType.MARKET, quantity=Decimal(10), status=OrderStatus.FILLED,
                  filled_quantity=Decimal(10))  # fmt: skip
    return order.replace(**changes) if changes else order


def stored_fill(client_id: str, trade_id: int, side: OrderSide = OrderSide.BUY) -> Fill:
    return Fill(client_order_id=client_id, symbol=SYMBOL, side=side, price=Decimal("1.1"),
                quantity=Decimal(10), fee=Decimal("0.0055"), fee_currency="USDT",
                liquidity=LiquidityRole.TAKER, ts_ns=1, trade_id=str(trade_id),
                position_side=None)  # fmt: skip


def test_clean_round_trip_finds_nothing() -> None:
    verdict = Verdict()
    orders = [venue_order(1, "bot1.1"), venue_order(2, "bot1.2")]
    trades = [venue_trade(7, 1), venue_trade(8, 2, "SELL")]
    fills = [stored_fill("bot1.1", 7), stored_fill("bot1.2", 8, OrderSide.SELL)]
    stored = [stored_order("bot1.1"), stored_order("bot1.2", OrderSide.SELL)]
    check_duplicates(verdict, orders, {"requests": {"POST /fapi/v1/order": 2}})
    check_fills(verdict, orders, trades, fills)
    check_orders(verdict, orders, stored, fills)
    check_positions(verdict, [], fills, Decimal(0))
    assert verdict.is_clean, verdict.findings


def test_client_id_created_twice_and_refused_resend_are_duplicates() -> None:
    verdict = Verdict()
    orders = [venue_order(1, "bot1.1"), venue_order(2, "bot1.1")]
    check_duplicates(verdict, orders, {"requests": {"POST /fapi/v1/order": 3}})
    assert verdict.duplicates == 2
    assert "bot1.1 created 2 times" in verdict.findings[0]


def test_venue_fill_missing_from_the_store_is_lost() -> None:
    verdict = Verdict()
    orders = [venue_order(1, "bot1.1")]
    check_fills(verdict, orders, [venue_trade(7, 1)], [])
    assert (verdict.lost, verdict.drift) == (1, 0)
    assert "trade 7 of bot1.1" in verdict.findings[0]


def test_stored_fill_unknown_to_the_venue_is_drift() -> None:
    verdict = Verdict()
    check_fills(verdict, [venue_order(1, "bot1.1")], [], [stored_fill("bot1.1", 9)])
    assert verdict.drift == 1


def test_venue_order_missing_from_the_store_is_lost() -> None:
    verdict = Verdict()
    check_orders(verdict, [venue_order(1, "bot1.1")], [], [])
    assert verdict.lost == 1


def test_pending_order_and_quantity_mismatches_are_drift() -> None:
    verdict = Verdict()
    orders = [venue_order(1, "bot1.1", status="FILLED", executed="10")]
    pending = stored_order("bot1.1", status=OrderStatus.SUBMITTED, filled_quantity=Decimal(0))
    check_orders(verdict, orders, [pending], [])
    assert verdict.drift == 3  # left pending, executed 10 vs 0, FILLED vs still open
    assert any("left pending" in finding for finding in verdict.findings)


def test_filled_quantity_must_equal_its_stored_fills() -> None:
    verdict = Verdict()
    check_orders(verdict, [venue_order(1, "bot1.1")], [stored_order("bot1.1")], [])
    assert verdict.drift == 1
    assert "sum of its stored fills 0" in verdict.findings[0]


def test_position_must_equal_its_fills_and_the_venue() -> None:
    verdict = Verdict()
    fills = [stored_fill("bot1.1", 7)]
    legs = [Position(SYMBOL, PositionSide.LONG, quantity=Decimal(20))]
    check_positions(verdict, legs, fills, Decimal(10))
    assert verdict.drift == 2


def test_crash_plan_is_fixed_by_the_seeds_and_covers_every_point() -> None:
    first = crash_plan((11, 23))
    again = crash_plan((11, 23))
    plan = [next(first) for _ in range(20)]
    assert plan == [next(again) for _ in range(20)]
    points = Counter(value.split(":")[0] for value in plan)
    assert set(points) == set(HIT_RANGES)
    assert all(count == 4 for count in points.values())
    assert all(v.endswith(FALLBACK) for v in plan if not v.startswith("before_submit"))
    assert plan != [next(crash_plan((12, 23))) for _ in range(20)]
