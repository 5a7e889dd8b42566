"""PE5: retention prunes thoughts and snapshots by age, never orders, fills or trades."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from aegis.model import OrderEventKind, PositionSide
from aegis.store import Store, TradeRecord

from .conftest import FakeClock, make_fill, make_order, update, url_of

DAY_NS = 86_400 * 10**9


def _old_history(store: Store, tenant: str) -> None:
    order = store.record_intent(tenant, make_order(client_id="bot1.1"))
    done = update(order, OrderEventKind.FILL, 2, fill=make_fill(order, "T1", order.quantity, 2))
    trade = TradeRecord(
        "bot1.1", "bot1", order.symbol, PositionSide.LONG, 2, order.price or Decimal(1),
        order.quantity, Decimal(0), Decimal(0), True,
    )  # fmt: skip
    submitted = order.apply(update(order, OrderEventKind.SUBMIT, 1))
    store.apply_order_update(tenant, submitted, update(order, OrderEventKind.SUBMIT, 1))
    store.apply_order_update(tenant, submitted.apply(done), done, trade=trade)
    store.record_thought(tenant, "bot1", "old thought")
    store.record_balance(tenant, "USDT", Decimal(1), Decimal(1))
    store.save_snapshot(tenant, "bot1", "w", {"n": 1})
    store.save_snapshot(tenant, "bot1", "w", {"n": 2})
    store.reserve_capital(tenant, "bot1", "bot1.9", Decimal(1), Decimal(10))
    store.release_reservation(tenant, "bot1", "bot1.9")
    store.audit(tenant, "alice", "pause", "ok")


def test_prune_deletes_old_journals_and_keeps_the_audit_trail(store: Store, tenant: str) -> None:
    clock = FakeClock()
    timed = Store(url_of(store), clock=clock)
    try:
        _old_history(timed, tenant)
        clock.now_ns += 10 * DAY_NS
        timed.record_thought(tenant, "bot1", "new thought")
        result = timed.prune(timedelta(days=7), tenant=tenant)
    finally:
        timed.close()
    assert result.deleted == {
        "thoughts": 1,
        "balance_snapshots": 1,
        "bot_state_snapshots": 1,
        "capital_reservations": 1,
    }
    assert [t.text for t in store.thoughts(tenant)] == ["new thought"]
    assert store.balances(tenant) == []
    latest = store.latest_snapshot(tenant, "bot1")  # the newest snapshot survives any age
    assert latest is not None
    assert latest.state == {"n": 2}
    assert len(store.orders(tenant)) == 1
    assert len(store.fills(tenant)) == 1
    assert len(store.trades(tenant)) == 1
    assert len(store.order_events(tenant, "bot1.1")) == 3
    assert len(store.audit_log(tenant)) == 1


def test_prune_of_one_tenant_leaves_the_others(
    store: Store, tenant: str, other_tenant: str
) -> None:
    clock = FakeClock()
    timed = Store(url_of(store), clock=clock)
    try:
        timed.record_thought(tenant, "bot1", "mine")
        timed.record_thought(other_tenant, "bot1", "theirs")
        clock.now_ns += 2 * DAY_NS
        result = timed.prune(timedelta(days=1), tenant=tenant)
    finally:
        timed.close()
    assert result.deleted["thoughts"] == 1
    assert store.thoughts(tenant) == []
    assert [t.text for t in store.thoughts(other_tenant)] == ["theirs"]


def test_prune_refuses_a_negative_age(store: Store) -> None:
    with pytest.raises(ValueError, match="older_than"):
        store.prune(timedelta(days=-1))
