"""``apply_order_update`` writes every leg and round trip of one update in its transaction."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from aegis.model import (
    Fill,
    LiquidityRole,
    Order,
    OrderEventKind,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Position,
    PositionSide,
)
from aegis.store import Store, TradeRecord

SYMBOL = "BTC/USDT:USDT"
TENANT, BOT = "t1", "bot1"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'legs.db'}")
    opened.upgrade()
    yield opened
    opened.close()


def _flip(store: Store) -> tuple[Order, OrderUpdate]:
    order = Order(
        client_order_id="s3", bot_id=BOT, symbol=SYMBOL, side=OrderSide.SELL,
        type=OrderType.MARKET, quantity=Decimal(3), price=None, status=OrderStatus.ACCEPTED,
        created_ns=1, updated_ns=1,
    )  # fmt: skip
    store.record_intent(TENANT, order)
    fill = Fill(
        "s3", SYMBOL, OrderSide.SELL, Decimal(110), Decimal(3), Decimal("0.3"), "USDT",
        LiquidityRole.TAKER, 2, "trade-1",
    )  # fmt: skip
    update = OrderUpdate("s3", OrderEventKind.FILL, 2, fill)
    return order.apply(update), update


CLOSED_LEG = Position(
    SYMBOL, PositionSide.LONG, Decimal(0), Decimal(0), Decimal(10), Decimal("0.2")
)
OPENED_LEG = Position(
    SYMBOL, PositionSide.SHORT, Decimal(2), Decimal(110), Decimal(0), Decimal("0.2")
)
CLOSED_TRIP = TradeRecord(
    "b1:long", BOT, SYMBOL, PositionSide.LONG, 1, Decimal(100), Decimal(1), Decimal("9.8"),
    Decimal("0.2"), False, 2, Decimal(110),
)  # fmt: skip
OPENED_TRIP = TradeRecord(
    "s3:short", BOT, SYMBOL, PositionSide.SHORT, 2, Decimal(110), Decimal(2), Decimal("-0.2"),
    Decimal("0.2"), True,
)  # fmt: skip


def test_two_legs_and_two_round_trips_are_written_with_the_update(store: Store) -> None:
    after, update = _flip(store)
    store.apply_order_update(
        TENANT, after, update, positions=[CLOSED_LEG, OPENED_LEG], trades=[CLOSED_TRIP, OPENED_TRIP]
    )
    assert store.positions(TENANT, BOT) == [CLOSED_LEG, OPENED_LEG]
    assert store.trades(TENANT, BOT) == [CLOSED_TRIP, OPENED_TRIP]
    assert store.get_order(TENANT, "s3") == after


def test_the_single_leg_and_trade_keywords_combine_with_the_lists(store: Store) -> None:
    after, update = _flip(store)
    store.apply_order_update(
        TENANT, after, update, position=CLOSED_LEG, trade=CLOSED_TRIP,
        positions=[OPENED_LEG], trades=[OPENED_TRIP],
    )  # fmt: skip
    assert store.positions(TENANT, BOT) == [CLOSED_LEG, OPENED_LEG]
    assert store.trades(TENANT, BOT) == [CLOSED_TRIP, OPENED_TRIP]


def test_a_failure_after_the_first_leg_writes_nothing(store: Store, tmp_path: Path) -> None:
    after, update = _flip(store)
    stages: list[str] = []

    def fail_after_first_leg(stage: str) -> None:
        stages.append(stage)
        if stage == "position":
            raise RuntimeError("injected after the first leg")

    faulty = Store(f"sqlite:///{tmp_path / 'legs.db'}", fault_hook=fail_after_first_leg)
    try:
        with pytest.raises(RuntimeError, match="first leg"):
            faulty.apply_order_update(
                TENANT, after, update, positions=[CLOSED_LEG, OPENED_LEG], trades=[CLOSED_TRIP]
            )
    finally:
        faulty.close()
    assert stages == ["order", "event", "fill", "position"]
    assert store.positions(TENANT, BOT) == []
    assert store.trades(TENANT, BOT) == []
    assert store.fills(TENANT, BOT) == []
