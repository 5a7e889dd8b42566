"""Order state machine (OR1): the table is the only way to change state."""

from __future__ import annotations

import pickle
import timeit
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aegis.model import (
    PENDING_STATUSES,
    TRANSITIONS,
    Fill,
    IllegalTransition,
    LiquidityRole,
    Order,
    OrderEventKind,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdate,
)

CID = "bot.1"


def _order(status: OrderStatus = OrderStatus.NEW, filled: str = "0") -> Order:
    return Order(
        client_order_id=CID,
        bot_id="bot",
        symbol="BTC/USDT",
        side=OrderSide.BUY,
        type=OrderType.LIMIT,
        quantity=Decimal("1"),
        price=Decimal("100"),
        status=status,
        filled_quantity=Decimal(filled),
        average_fill_price=Decimal("100") if Decimal(filled) else None,
        created_ns=1,
    )


def _fill(quantity: str, price: str = "100") -> Fill:
    return Fill(
        client_order_id=CID,
        symbol="BTC/USDT",
        side=OrderSide.BUY,
        price=Decimal(price),
        quantity=Decimal(quantity),
        fee=Decimal("0"),
        fee_currency="USDT",
        liquidity=LiquidityRole.MAKER,
        ts_ns=5,
        trade_id="t",
    )


def _update(kind: OrderEventKind, quantity: str = "0.25", price: str = "100") -> OrderUpdate:
    fill = _fill(quantity, price) if kind.is_fill else None
    return OrderUpdate(client_order_id=CID, kind=kind, ts_ns=9, fill=fill)


def test_happy_path_with_partial_fills_averages_price() -> None:
    order = _order().apply(_update(OrderEventKind.SUBMIT))
    order = order.apply(OrderUpdate(CID, OrderEventKind.ACCEPT, 3, venue_order_id="v1"))
    order = order.apply(_update(OrderEventKind.PARTIAL_FILL, "0.25", "100"))
    assert order.status is OrderStatus.PARTIALLY_FILLED
    order = order.apply(_update(OrderEventKind.FILL, "0.75", "104"))
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == 1
    assert order.average_fill_price == Decimal("103")
    assert order.venue_order_id == "v1"
    assert order.updated_ns == 9


def test_fill_after_cancel_moves_order_to_filled() -> None:
    cancelled = _order(OrderStatus.CANCELLED, filled="0.5")
    assert cancelled.apply(_update(OrderEventKind.FILL, "0.5")).status is OrderStatus.FILLED
    partial = cancelled.apply(_update(OrderEventKind.PARTIAL_FILL, "0.25"))
    assert partial.status is OrderStatus.CANCELLED
    assert partial.filled_quantity == Decimal("0.75")


def test_fill_while_pending_cancel_is_kept() -> None:
    pending = _order(OrderStatus.PENDING_CANCEL)
    assert pending.apply(_update(OrderEventKind.PARTIAL_FILL)).status is (
        OrderStatus.PENDING_CANCEL
    )
    refused = _order(OrderStatus.PENDING_CANCEL, filled="0.5").apply(_update(OrderEventKind.REJECT))
    assert refused.status is OrderStatus.PARTIALLY_FILLED


def test_illegal_transition_names_order_state_and_event() -> None:
    with pytest.raises(
        IllegalTransition, match=r"order bot.1: event accept not allowed in state new"
    ):
        _order().apply(_update(OrderEventKind.ACCEPT))


def test_over_fill_raises() -> None:
    with pytest.raises(IllegalTransition, match=r"would make filled 1\.25 of quantity 1"):
        _order(OrderStatus.ACCEPTED, filled="0.5").apply(_update(OrderEventKind.FILL, "0.75"))


def test_fill_event_without_fill_raises() -> None:
    update = OrderUpdate(CID, OrderEventKind.FILL, 1)
    with pytest.raises(IllegalTransition, match="carries no fill"):
        _order(OrderStatus.ACCEPTED).apply(update)


def test_order_is_immutable_and_pickles() -> None:
    order = _order()
    with pytest.raises(AttributeError, match="immutable"):
        order.status = OrderStatus.FILLED
    assert pickle.loads(pickle.dumps(order)) == order  # noqa: S301 - our own bytes
    assert order.replace(tag="exit").tag == "exit"
    assert order.replace(tag="exit") != order


def test_pending_statuses_are_the_non_terminal_ones() -> None:
    assert {s for s in OrderStatus if not s.is_terminal} == PENDING_STATUSES


@settings(max_examples=200, deadline=None)
@given(
    status=st.sampled_from(list(OrderStatus)),
    kind=st.sampled_from(list(OrderEventKind)),
    filled=st.sampled_from(["0", "0.5"]),
    quantity=st.sampled_from(["0.25", "0.5"]),
)
def test_every_pair_outside_the_table_raises_and_terminal_stays_terminal(
    status: OrderStatus, kind: OrderEventKind, filled: str, quantity: str
) -> None:
    order = _order(status, filled)
    update = _update(kind, quantity)
    if (status, kind) not in TRANSITIONS:
        with pytest.raises(IllegalTransition, match=f"state {status}"):
            order.apply(update)
        return
    after = order.apply(update)
    if status.is_terminal:
        assert after.status.is_terminal
    if kind.is_fill:
        assert after.filled_quantity == order.filled_quantity + Decimal(quantity)
        assert (after.status is OrderStatus.FILLED) == (after.filled_quantity == order.quantity)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list(OrderEventKind)), max_size=12))
def test_no_event_sequence_leaves_a_terminal_state(kinds: list[OrderEventKind]) -> None:
    order = _order()
    for kind in kinds:
        was_terminal = order.status.is_terminal
        try:
            order = order.apply(_update(kind, "0.125"))
        except IllegalTransition:
            continue
        assert not was_terminal or order.status.is_terminal
        assert order.filled_quantity <= order.quantity


def test_create_submit_accept_fill_is_fast() -> None:
    quantity = Decimal("0.001")
    submit = OrderUpdate(CID, OrderEventKind.SUBMIT, 1)
    accept = OrderUpdate(CID, OrderEventKind.ACCEPT, 2)
    fill = OrderUpdate(CID, OrderEventKind.FILL, 3, fill=_fill("0.001", "50000"))

    def lifecycle() -> Order:
        order = Order(
            client_order_id=CID,
            bot_id="bot",
            symbol="BTC/USDT",
            side=OrderSide.BUY,
            type=OrderType.MARKET,
            quantity=quantity,
        )
        return order.apply(submit).apply(accept).apply(fill)

    assert lifecycle().status is OrderStatus.FILLED
    best = min(timeit.repeat(lifecycle, number=2000, repeat=5)) / 2000
    # budget 4-5 µs on the reference machine; generous bound so a loaded CI box does not flake
    assert best < 20e-6
