"""Order journal: intents, sequences, one-transaction updates, pending set, tenant isolation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aegis.model import (
    PENDING_STATUSES,
    OrderEventKind,
    OrderStatus,
    Position,
    PositionSide,
    client_order_id,
)
from aegis.store import DuplicateFill, DuplicateIntent, Store, TradeRecord, UnknownOrder

from .conftest import FEE, PRICE, QUANTITY, make_fill, make_order, update


def _fill_completely(store: Store, tenant: str, bot_id: str = "bot1") -> tuple[str, Position]:
    order = store.record_intent(tenant, make_order(bot_id))
    submit = update(order, OrderEventKind.SUBMIT, 2_000)
    order = order.apply(submit)
    store.apply_order_update(tenant, order, submit)
    accept = update(order, OrderEventKind.ACCEPT, 3_000, venue_order_id="V-1")
    order = order.apply(accept)
    store.apply_order_update(tenant, order, accept)
    first = make_fill(order, "T-1", QUANTITY / 3, 4_000)
    partial = update(order, OrderEventKind.PARTIAL_FILL, 4_000, fill=first)
    order = order.apply(partial)
    store.apply_order_update(tenant, order, partial)
    rest = make_fill(order, "T-2", QUANTITY - QUANTITY / 3, 5_000)
    done = update(order, OrderEventKind.FILL, 5_000, fill=rest)
    order = order.apply(done)
    position = Position("BTC/USDT:USDT", PositionSide.LONG, QUANTITY, PRICE, fees_paid=FEE * 2)
    trade = TradeRecord(
        trade_id=order.client_order_id,
        bot_id=bot_id,
        symbol=order.symbol,
        side=PositionSide.LONG,
        entry_ts_ns=4_000,
        entry_price=PRICE,
        quantity=QUANTITY,
        pnl=-FEE * 2,
        fees=FEE * 2,
        is_open=True,
    )
    store.apply_order_update(tenant, order, done, position=position, trade=trade)
    return order.client_order_id, position


def test_intent_round_trips_every_field_with_exact_decimals(store: Store, tenant: str) -> None:
    intent = make_order(client_id="bot1.7")
    stored = store.record_intent(tenant, intent)
    assert stored == intent
    loaded = store.get_order(tenant, "bot1.7")
    assert loaded == intent
    assert loaded is not None
    assert str(loaded.price) == str(PRICE)
    assert str(loaded.quantity) == str(QUANTITY)
    assert [e.kind for e in store.order_events(tenant, "bot1.7")] == [None]


def test_intent_without_client_id_gets_the_next_sequence(store: Store, tenant: str) -> None:
    first = store.record_intent(tenant, make_order("botA"))
    second = store.record_intent(tenant, make_order("botA"))
    assert first.client_order_id == client_order_id("botA", 1)
    assert second.client_order_id == client_order_id("botA", 2)
    assert store.next_intent_sequence(tenant, "botA") == 3


def test_caller_made_client_id_moves_the_sequence_past_it(store: Store, tenant: str) -> None:
    store.record_intent(tenant, make_order("botB", client_order_id("botB", 41)))
    assert store.next_intent_sequence(tenant, "botB") == 42
    store.record_intent(tenant, make_order("botB", client_order_id("botB", 5)))
    assert store.next_intent_sequence(tenant, "botB") == 43


def test_sequences_are_per_tenant_and_bot(store: Store, tenant: str, other_tenant: str) -> None:
    assert store.next_intent_sequence(tenant, "bot1") == 1
    assert store.next_intent_sequence(tenant, "bot1") == 2
    assert store.next_intent_sequence(tenant, "bot2") == 1
    assert store.next_intent_sequence(other_tenant, "bot1") == 1


def test_sequence_survives_a_new_store_instance(store: Store, tenant: str) -> None:
    from .conftest import url_of

    store.next_intent_sequence(tenant, "bot1")
    reopened = Store(url_of(store))
    try:
        assert reopened.next_intent_sequence(tenant, "bot1") == 2
    finally:
        reopened.close()


def test_recording_the_same_client_id_twice_raises(store: Store, tenant: str) -> None:
    store.record_intent(tenant, make_order(client_id="bot1.1"))
    with pytest.raises(DuplicateIntent, match=r"bot1\.1"):
        store.record_intent(tenant, make_order(client_id="bot1.1", quantity=Decimal(2)))
    assert store.get_order(tenant, "bot1.1") == make_order(client_id="bot1.1")


def test_same_client_id_in_two_tenants_is_two_orders(
    store: Store, tenant: str, other_tenant: str
) -> None:
    store.record_intent(tenant, make_order(client_id="bot1.1"))
    store.record_intent(other_tenant, make_order(client_id="bot1.1", quantity=Decimal(3)))
    mine = store.get_order(tenant, "bot1.1")
    theirs = store.get_order(other_tenant, "bot1.1")
    assert mine is not None
    assert theirs is not None
    assert (mine.quantity, theirs.quantity) == (QUANTITY, Decimal(3))


def test_full_lifecycle_stores_order_events_fills_position_trade(store: Store, tenant: str) -> None:
    order_id, position = _fill_completely(store, tenant)
    order = store.get_order(tenant, order_id)
    assert order is not None
    assert order.status is OrderStatus.FILLED
    assert order.filled_quantity == QUANTITY
    assert order.average_fill_price == PRICE
    assert order.venue_order_id == "V-1"
    events = store.order_events(tenant, order_id)
    assert [e.kind for e in events] == [
        None,
        OrderEventKind.SUBMIT,
        OrderEventKind.ACCEPT,
        OrderEventKind.PARTIAL_FILL,
        OrderEventKind.FILL,
    ]
    assert [e.status for e in events][-1] is OrderStatus.FILLED
    assert events[-1].previous_status is OrderStatus.PARTIALLY_FILLED
    fills = store.fills(tenant, order_id=order_id)
    assert [f.trade_id for f in fills] == ["T-1", "T-2"]
    assert sum(f.quantity for f in fills) == QUANTITY
    assert all(f.fee == FEE and f.price == PRICE for f in fills)
    assert store.positions(tenant, "bot1") == [position]
    [trade] = store.trades(tenant, "bot1")
    assert (trade.pnl, trade.fees, trade.is_open) == (-FEE * 2, FEE * 2, True)


def test_closing_a_trade_replaces_the_open_record(store: Store, tenant: str) -> None:
    order_id, _ = _fill_completely(store, tenant)
    order = store.get_order(tenant, order_id)
    assert order is not None
    exit_order = store.record_intent(
        tenant, make_order(side=order.side.opposite, reduce_only=True, tag="exit")
    )
    submit = update(exit_order, OrderEventKind.SUBMIT, 6_000)
    exit_order = exit_order.apply(submit)
    store.apply_order_update(tenant, exit_order, submit)
    fill = make_fill(exit_order, "T-3", QUANTITY, 7_000)
    done = update(exit_order, OrderEventKind.FILL, 7_000, fill=fill)
    exit_order = exit_order.apply(done)
    closed = TradeRecord(
        trade_id=order_id,
        bot_id="bot1",
        symbol=order.symbol,
        side=PositionSide.LONG,
        entry_ts_ns=4_000,
        entry_price=PRICE,
        quantity=QUANTITY,
        pnl=Decimal("-0.000000000370370367036703"),
        fees=FEE * 3,
        is_open=False,
        exit_ts_ns=7_000,
        exit_price=PRICE,
    )
    flat = Position(order.symbol, PositionSide.LONG, Decimal(0), Decimal(0), fees_paid=FEE * 3)
    store.apply_order_update(tenant, exit_order, done, position=flat, trade=closed)
    assert store.trades(tenant, "bot1") == [closed]
    assert store.trades(tenant, "bot1", is_open=True) == []
    assert store.positions(tenant, "bot1") == [flat]


def test_a_fill_stored_twice_raises_and_changes_nothing(store: Store, tenant: str) -> None:
    order = store.record_intent(tenant, make_order())
    submit = update(order, OrderEventKind.SUBMIT, 2_000)
    order = order.apply(submit)
    store.apply_order_update(tenant, order, submit)
    fill = make_fill(order, "T-9", QUANTITY / 2, 3_000)
    partial = update(order, OrderEventKind.PARTIAL_FILL, 3_000, fill=fill)
    after = order.apply(partial)
    store.apply_order_update(tenant, after, partial)
    replayed = after.apply(partial)  # a replayed stream message
    with pytest.raises(DuplicateFill, match="T-9"):
        store.apply_order_update(tenant, replayed, partial)
    assert store.get_order(tenant, order.client_order_id) == after
    assert len(store.fills(tenant)) == 1
    assert len(store.order_events(tenant, order.client_order_id)) == 3


def test_update_of_an_unrecorded_order_raises(store: Store, tenant: str) -> None:
    order = make_order(client_id="bot1.99")
    submit = update(order, OrderEventKind.SUBMIT, 2_000)
    with pytest.raises(UnknownOrder, match=r"bot1\.99"):
        store.apply_order_update(tenant, order.apply(submit), submit)


def test_pending_orders_are_exactly_the_pending_statuses(store: Store, tenant: str) -> None:
    for number, status in enumerate(OrderStatus, start=1):
        store.record_intent(
            tenant, make_order(client_id=f"bot1.{number}", status=status, created_ns=number)
        )
    pending = store.pending_orders(tenant, "bot1")
    assert {order.status for order in pending} == set(PENDING_STATUSES)
    assert len(pending) == len(PENDING_STATUSES)
    terminal = store.orders(tenant, statuses=[OrderStatus.FILLED, OrderStatus.CANCELLED])
    assert {order.status for order in terminal} == {OrderStatus.FILLED, OrderStatus.CANCELLED}
    assert len(store.orders(tenant)) == len(OrderStatus)


def test_order_queries_filter_by_bot_and_symbol(store: Store, tenant: str) -> None:
    store.record_intent(tenant, make_order("botX"))
    store.record_intent(tenant, make_order("botY", symbol="ETH/USDT"))
    assert [o.bot_id for o in store.orders(tenant, bot_id="botX")] == ["botX"]
    assert [o.bot_id for o in store.orders(tenant, symbol="ETH/USDT")] == ["botY"]


def test_no_order_query_returns_another_tenants_rows(
    store: Store, tenant: str, other_tenant: str
) -> None:
    order_id, _ = _fill_completely(store, other_tenant)
    assert store.get_order(tenant, order_id) is None
    assert store.orders(tenant) == []
    assert store.pending_orders(tenant) == []
    assert store.order_events(tenant, order_id) == []
    assert store.fills(tenant) == []
    assert store.positions(tenant) == []
    assert store.trades(tenant) == []
    order = store.get_order(other_tenant, order_id)
    assert order is not None
    cancel = update(order, OrderEventKind.CANCEL, 9_000)
    cancelled = order.replace(status=OrderStatus.CANCELLED)
    with pytest.raises(UnknownOrder):
        store.apply_order_update(tenant, cancelled, cancel)
    assert store.get_order(other_tenant, order_id) == order


def test_empty_tenant_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="tenant"):
        store.orders("")
