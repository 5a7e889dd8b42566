"""The hand-written constructors of the hot frozen dataclasses keep the dataclass contract."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from decimal import Decimal

import pytest

from aegis.model._slots import slot_setters
from aegis.model.candle import Candle
from aegis.model.enums import (
    LiquidityRole,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
    TimeInForce,
)
from aegis.model.events import Fill, OrderEventKind, OrderUpdate, new_fill, new_update
from aegis.model.order import Order, new_order
from aegis.model.signals import Action, Decision

FILL = Fill("c1", "BTC/USDT", OrderSide.BUY, Decimal("1.5"), Decimal(2), Decimal("0.01"), "USDT",
            LiquidityRole.TAKER, 7, "t1")  # fmt: skip
SAMPLES = [
    Candle(1, 2.0, 3.0, 1.0, 2.5, 10.0),
    Decision("BTC/USDT", 1, Action.ENTER_LONG, 0.5, "why", "s", {"k": 1}),
    FILL,
    OrderUpdate("c1", OrderEventKind.FILL, 7, fill=FILL, venue_order_id="9"),
]


@pytest.mark.parametrize("value", SAMPLES, ids=lambda v: type(v).__name__)
def test_instances_stay_frozen_equal_hashable_picklable_and_replaceable(value: object) -> None:
    first = dataclasses.fields(value)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, first, None)
    values = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}  # type: ignore[arg-type]
    rebuilt = type(value)(**values)
    assert rebuilt == value
    assert pickle.loads(pickle.dumps(value)) == value  # noqa: S301  # our own bytes
    assert dataclasses.replace(value, **{first: getattr(value, first)}) == value  # type: ignore[type-var]
    assert repr(value).startswith(f"{type(value).__name__}(")
    if not isinstance(value, Decision):  # a Decision's metadata is a dict: unhashable, as before
        assert hash(rebuilt) == hash(value)


def test_defaults_are_the_declared_ones() -> None:
    decision = Decision("X", 1, Action.HOLD, 0.0, "idle", "s")
    assert decision.metadata == {}
    assert decision.metadata is not Decision("X", 1, Action.HOLD, 0.0, "idle", "s").metadata
    update = OrderUpdate("c", OrderEventKind.ACCEPT, 3)
    assert (update.fill, update.venue_order_id, update.reason) == (None, None, None)
    fill = dataclasses.replace(FILL, position_side=PositionSide.LONG)
    assert fill.position_side is PositionSide.LONG
    assert FILL.position_side is None


def test_keyword_construction_matches_positional() -> None:
    assert Candle(ts_ms=1, open=2.0, high=3.0, low=1.0, close=2.5, volume=10.0) == SAMPLES[0]


def test_slot_setters_refuse_a_name_that_is_not_a_slot() -> None:
    with pytest.raises(TypeError, match="Candle has no slot 'colour'"):
        slot_setters(Candle, "colour")
    with pytest.raises(TypeError, match="no slot 'is_actionable'"):
        slot_setters(Decision, "is_actionable")  # a property, not a slot


def test_factories_build_the_same_objects_as_the_classes() -> None:
    fill = new_fill(*(getattr(FILL, f.name) for f in dataclasses.fields(Fill)))
    assert type(fill) is Fill
    assert fill == FILL
    assert hash(fill) == hash(FILL)
    update = new_update("c1", OrderEventKind.FILL, 7, fill, "9", None)
    assert type(update) is OrderUpdate
    assert update == SAMPLES[3]
    assert copy.copy(update) == update
    with pytest.raises(dataclasses.FrozenInstanceError):
        update.reason = "changed"  # type: ignore[misc]


def test_new_order_is_the_new_order_the_constructor_builds() -> None:
    fields = {
        "client_order_id": "bot1.1", "bot_id": "bot1", "symbol": "BTC/USDT",
        "side": OrderSide.SELL, "quantity": Decimal("0.5"), "price": Decimal(100),
        "stop_price": None, "time_in_force": TimeInForce.IOC, "reduce_only": True,
        "position_side": PositionSide.SHORT, "created_ns": 42, "tag": "exit",
    }  # fmt: skip
    expected = Order(type=OrderType.LIMIT, **fields)  # type: ignore[arg-type]
    built = new_order(
        "bot1.1", "bot1", "BTC/USDT", OrderSide.SELL, OrderType.LIMIT, Decimal("0.5"),
        Decimal(100), None, TimeInForce.IOC, True, PositionSide.SHORT, 42, "exit",
    )  # fmt: skip
    assert type(built) is Order
    assert built == expected
    assert (built.status, built.updated_ns, built.filled_quantity) == (
        OrderStatus.NEW,
        42,
        Decimal(0),
    )
